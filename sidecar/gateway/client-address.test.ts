import type { IncomingMessage } from 'node:http';

import { ClientAddress } from './client-address';

// Which address the rate limit counts: pure logic over a request's socket address and headers.

function request(remoteAddress: string, forwardedFor?: string | string[]): IncomingMessage {
  const headers = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
  return { socket: { remoteAddress }, headers } as unknown as IncomingMessage;
}

describe('ClientAddress', () => {
  const behindIngress = new ClientAddress(['10.0.0.0/8', 'fd00::/8']);

  it('counts the connection when no proxy is trusted, whatever the headers say', () => {
    const none = new ClientAddress([]);
    expect(none.of(request('10.1.2.3', '203.0.113.9'))).toBe('10.1.2.3');
  });

  it('counts the connection when it does not come from a trusted proxy', () => {
    expect(behindIngress.of(request('192.0.2.7', '203.0.113.9'))).toBe('192.0.2.7');
  });

  it('takes the first untrusted address from the right of X-Forwarded-For', () => {
    const spoofed = '198.51.100.1, 203.0.113.9, 10.2.0.1';
    expect(behindIngress.of(request('10.1.2.3', spoofed))).toBe('203.0.113.9');
    expect(behindIngress.of(request('10.1.2.3', ['198.51.100.1', '203.0.113.9']))).toBe(
      '203.0.113.9',
    );
    expect(behindIngress.of(request('fd00::1', '2001:db8::5'))).toBe('2001:db8::5');
  });

  it('treats an IPv4 client seen through a dual-stack socket as the IPv4 client', () => {
    expect(behindIngress.of(request('::ffff:10.1.2.3', '::ffff:203.0.113.9'))).toBe('203.0.113.9');
  });

  it('counts an IPv6 hop that merely starts like an IPv4-mapped address as itself', () => {
    expect(behindIngress.of(request('10.1.2.3', '::ffff:0:1.2.3.4'))).toBe('::ffff:0:1.2.3.4');
  });

  it('falls back to the nearest trusted hop when the header has nothing else to offer', () => {
    expect(behindIngress.of(request('10.1.2.3'))).toBe('10.1.2.3');
    expect(behindIngress.of(request('10.1.2.3', '10.9.9.9'))).toBe('10.9.9.9');
    expect(behindIngress.of(request('10.1.2.3', 'unknown, 10.9.9.9'))).toBe('10.9.9.9');
    expect(behindIngress.of(request('10.1.2.3', 'not-an-address'))).toBe('10.1.2.3');
  });
});
