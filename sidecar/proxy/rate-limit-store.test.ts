import { isIP } from 'node:net';

import { canonicalAddress } from './rate-limit-store';

describe('canonicalAddress', () => {
  it('unwraps an IPv4 client seen through a dual-stack socket', () => {
    expect(canonicalAddress('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(canonicalAddress('::FFFF:203.0.113.9')).toBe('203.0.113.9');
  });

  it('keeps IPv6 addresses that only start like an IPv4-mapped one', () => {
    // An IPv4-translated address (RFC 2765) is a distinct IPv6 client, not the IPv4 one.
    expect(canonicalAddress('::ffff:0:1.2.3.4')).toBe('::ffff:0:1.2.3.4');
    expect(isIP(canonicalAddress('::ffff:0:1.2.3.4'))).toBe(6);
    expect(canonicalAddress('::ffff:1:2')).toBe('::ffff:1:2');
    expect(canonicalAddress('::ffff:1.2.3')).toBe('::ffff:1.2.3');
  });

  it('leaves plain addresses and non-addresses alone', () => {
    expect(canonicalAddress('10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalAddress('2001:db8::5')).toBe('2001:db8::5');
    expect(canonicalAddress('unknown')).toBe('unknown');
  });
});
