import { MappingUrlError, parseMappingUrl, urlMatchKey } from './url-match';

describe('parseMappingUrl', () => {
  it('reads host, default port and path prefix', () => {
    expect(parseMappingUrl('https://API.Partner.example/v2/')).toEqual({
      scheme: 'https',
      host: 'api.partner.example',
      port: 443,
      pathPrefix: '/v2/',
    });
    expect(parseMappingUrl('https://bank.example:8443')).toMatchObject({
      port: 8443,
      pathPrefix: '/',
    });
  });

  it('keeps a leading wildcard label', () => {
    expect(parseMappingUrl('https://*.bank.example/').host).toBe('*.bank.example');
  });

  it('refuses what a sidecar cannot match, naming the problem', () => {
    expect(() => parseMappingUrl('http://bank.example/')).toThrow('must use https');
    expect(() => parseMappingUrl('https://bank.example/?a=1')).toThrow('query or a fragment');
    expect(() => parseMappingUrl('https://u:p@bank.example/')).toThrow('user name or password');
    expect(() => parseMappingUrl('not a url')).toThrow(MappingUrlError);
  });

  it('gives equal keys to URLs that claim the same destination', () => {
    const a = urlMatchKey(parseMappingUrl('https://bank.example/'));
    const b = urlMatchKey(parseMappingUrl('https://BANK.example:443'));
    expect(a).toBe(b);
  });
});
