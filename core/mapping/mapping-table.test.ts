import type { IndexedMapping } from './index-document';
import { hostMatches, MappingTable, pathMatches } from './mapping-table';

function mapping(name: string, host: string, pathPrefix = '/', matchLabels = {}): IndexedMapping {
  return {
    name,
    match: { scheme: 'https', host, port: 443, pathPrefix },
    selector: { matchLabels },
    certificate: { name: `${name}-cert`, vaultVersion: 1, path: `mtls/shop/certificates/${name}` },
  };
}

describe('MappingTable', () => {
  const table = new MappingTable(
    [
      mapping('wild', '*.bank.example'),
      mapping('exact', 'api.bank.example'),
      mapping('payments', 'api.bank.example', '/payments'),
      mapping('payments-v2', 'api.bank.example', '/payments/v2'),
      mapping('other-team', 'api.bank.example', '/', { app: 'billing' }),
    ],
    { app: 'shop' },
  );
  const find = (host: string, path: string, port = 443): string | undefined =>
    table.lookup({ host, port, path })?.name;

  it('prefers an exact host to a wildcard, then the longest path prefix', () => {
    expect(find('api.bank.example', '/accounts')).toBe('exact');
    expect(find('api.bank.example', '/payments/1')).toBe('payments');
    expect(find('api.bank.example', '/payments/v2/1?x=y')).toBe('payments-v2');
    expect(find('auth.bank.example', '/payments')).toBe('wild');
  });

  it('matches nothing on another port, another host, or below two wildcard labels', () => {
    expect(find('api.bank.example', '/', 8443)).toBeUndefined();
    expect(find('a.b.bank.example', '/')).toBeUndefined();
    expect(find('bank.example', '/')).toBeUndefined();
  });

  it('ignores mappings whose selector does not pick this workload', () => {
    const billing = new MappingTable(
      [mapping('other-team', 'x.example', '/', { app: 'billing' })],
      {},
    );
    expect(billing.lookup({ host: 'x.example', port: 443, path: '/' })).toBeUndefined();
  });

  it('matches path prefixes at segment boundaries and wildcards on one label', () => {
    expect(pathMatches('/api', '/api')).toBe(true);
    expect(pathMatches('/api', '/api/x')).toBe(true);
    expect(pathMatches('/api', '/apis')).toBe(false);
    expect(pathMatches('/api/', '/api/x')).toBe(true);
    expect(hostMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
  });
});
