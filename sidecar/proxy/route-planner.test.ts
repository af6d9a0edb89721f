import type { IndexedMapping } from '../../core/mapping/index-document';
import type { CertificateSnapshot } from '../source/certificate-source';
import type { RequestTarget } from './request-target';
import { RoutePlanner } from './route-planner';

// The planner decides from the snapshot alone: no connection is made here.

function mappingOf(host: string, port: number): IndexedMapping {
  return {
    name: `${host}-${port}`,
    match: { scheme: 'https', host, port, pathPrefix: '/' },
    selector: { matchLabels: {} },
    certificate: { name: 'shop-cert', vaultVersion: 1, path: 'mtls/shop/shop-cert' },
  };
}

function target(host: string, port: number): RequestTarget {
  return { form: 'forward-proxy', destination: { host, port, path: '/' }, stopIfUnmapped: false };
}

describe('RoutePlanner in passthrough mode', () => {
  const snapshot: CertificateSnapshot = {
    namespace: 'shop',
    mappings: [mappingOf('localhost', 8443)],
    certificates: new Map([
      ['shop-cert', { chainPem: 'chain', privateKeyPem: 'key', version: 1, notAfterSeconds: 0 }],
    ]),
    syncedAt: 0,
  };
  const planner = new RoutePlanner(snapshot, {}, 'passthrough');

  it('routes the mapped loopback origin with its certificate', () => {
    expect(planner.plan(target('localhost', 8443))).toMatchObject({
      kind: 'route',
      mapping: { name: 'localhost-8443' },
      route: { host: 'localhost', port: 8443, guardResolution: false },
    });
  });

  it('keeps the same loopback host blocked on every port the mapping does not name', () => {
    for (const port of [443, 6379, 15020]) {
      expect(planner.plan(target('localhost', port))).toEqual({
        kind: 'refuse',
        problem: expect.objectContaining({ status: 403, code: 'PROXY_DESTINATION_BLOCKED' }),
      });
    }
  });

  it('passes an unmapped host that is not blocked through without a certificate', () => {
    expect(planner.plan(target('api.partner.example', 443))).toEqual({
      kind: 'route',
      route: { host: 'api.partner.example', port: 443, guardResolution: true },
    });
  });
});
