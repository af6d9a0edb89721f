import type { IncomingMessage } from 'node:http';

import { resolveRequestTarget } from './request-target';

// resolveRequestTarget reads only the request line's target and the headers.
function request(url: string, headers: Record<string, string>): IncomingMessage {
  return { url, headers } as unknown as IncomingMessage;
}

function transparent(host: string, path = '/accounts?page=2') {
  return resolveRequestTarget(request(path, { host }), 'shop');
}

describe('resolveRequestTarget for a transparently redirected call', () => {
  it('sends a call to http://partner.example/ to https on 443', () => {
    expect(transparent('partner.example')).toEqual({
      form: 'transparent',
      destination: { host: 'partner.example', port: 443, path: '/accounts?page=2' },
      stopIfUnmapped: false,
    });
  });

  it('treats a Host naming port 80, the default of http, like one naming no port', () => {
    expect(transparent('Partner.Example:80').destination).toEqual({
      host: 'partner.example',
      port: 443,
      path: '/accounts?page=2',
    });
  });

  it('keeps any other port the Host names, 443 included', () => {
    expect(transparent('partner.example:8443').destination.port).toBe(8443);
    expect(transparent('partner.example:443').destination.port).toBe(443);
    expect(transparent('[2001:db8::7]:80').destination).toMatchObject({
      host: '2001:db8::7',
      port: 443,
    });
  });

  it('maps an explicit port 80 the same way in the forward-proxy form', () => {
    const forward = resolveRequestTarget(request('http://partner.example:80/x', {}), 'shop');
    expect(forward).toMatchObject({
      form: 'forward-proxy',
      destination: { host: 'partner.example', port: 443, path: '/x' },
    });
  });

  it('refuses a Host that is not a host', () => {
    for (const host of ['partner.example/x', 'user@partner.example', 'partner example', '']) {
      expect(() => transparent(host)).toThrow(
        expect.objectContaining({ status: 400, code: 'PROXY_REQUEST_INVALID' }),
      );
    }
  });
});

describe('resolveRequestTarget and LP-stop-if-certificate-not-found', () => {
  const stop = (value: string) =>
    resolveRequestTarget(
      request('http://partner.example/x', { 'lp-stop-if-certificate-not-found': value }),
      'shop',
    ).stopIfUnmapped;

  it('accepts true in any letter case', () => {
    for (const value of ['true', 'True', 'TRUE', ' true ']) expect(stop(value)).toBe(true);
  });

  it('takes anything else, or no header, as false', () => {
    for (const value of ['false', 'yes', '1', '']) expect(stop(value)).toBe(false);
    expect(
      resolveRequestTarget(request('http://partner.example/x', {}), 'shop').stopIfUnmapped,
    ).toBe(false);
  });
});

describe('resolveRequestTarget for the forwarding method', () => {
  const forward = (path: string) =>
    resolveRequestTarget(
      request(path, { 'lp-forward-url': 'https://partner.example/orders' }),
      'shop',
    );

  it('reads a percent-encoded namespace', () => {
    expect(forward('/mtls/account/%73hop')).toMatchObject({
      form: 'forwarding-method',
      destination: { host: 'partner.example', port: 443, path: '/orders' },
    });
  });

  it('refuses a broken percent-escape with 400, not an internal error', () => {
    for (const path of ['/mtls/account/%E0', '/mtls/account/shop%', '/mtls/account/%zz']) {
      expect(() => forward(path)).toThrow(
        expect.objectContaining({
          status: 400,
          code: 'PROXY_REQUEST_INVALID',
          message: `the forwarding path ${path} is not valid percent-encoding`,
        }),
      );
    }
  });
});
