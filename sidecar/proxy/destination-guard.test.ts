import type { LookupAddress } from 'node:dns';

import { BlockedDestinationError, guardedLookup, isBlockedHost } from './destination-guard';

describe('the destination guard', () => {
  it('blocks loopback, link-local and metadata hosts as written', () => {
    const blocked = [
      '127.0.0.1',
      '127.1.2.3',
      '169.254.169.254',
      '::1',
      'fe80::1',
      'fd00:ec2::254',
    ];
    const names = ['localhost', 'LOCALHOST.', 'api.localhost', 'metadata.google.internal'];
    for (const host of [...blocked, ...names])
      expect({ host, blocked: isBlockedHost(host) }).toEqual({ host, blocked: true });
    for (const host of ['10.0.0.1', '192.168.1.1', 'api.partner.example', 'fd00::1']) {
      expect({ host, blocked: isBlockedHost(host) }).toEqual({ host, blocked: false });
    }
  });

  it('refuses a name that resolves into a blocked range', async () => {
    const resolved = await new Promise<{ err: unknown; addresses: unknown }>((resolve) =>
      guardedLookup('localhost', {}, (err, addresses) => resolve({ err, addresses })),
    );
    expect(resolved.err).toBeInstanceOf(BlockedDestinationError);
    expect((resolved.err as Error).message).toMatch(/calls to localhost are refused/);
  });

  it('passes other resolutions through in the shape the caller asked for', async () => {
    const one = await new Promise<unknown[]>((resolve) =>
      guardedLookup('10.1.2.3', {}, (...args) => resolve(args)),
    );
    const all = await new Promise<unknown[]>((resolve) =>
      guardedLookup('10.1.2.3', { all: true }, (...args) => resolve(args)),
    );
    expect(one).toEqual([null, '10.1.2.3', 4]);
    expect(all).toEqual([null, [{ address: '10.1.2.3', family: 4 } satisfies LookupAddress]]);
  });
});
