import {
  baseStringUri,
  hmacSha1Signature,
  percentEncode,
  signatureBaseString,
  type SignedParameter,
} from './oauth1-signature';

describe('percentEncode (RFC 5849 section 3.6)', () => {
  it('leaves only the unreserved characters as they are', () => {
    expect(percentEncode('AZaz09-._~')).toBe('AZaz09-._~');
    expect(percentEncode("!*'()")).toBe('%21%2A%27%28%29');
    expect(percentEncode(' +&=/?:@%')).toBe('%20%2B%26%3D%2F%3F%3A%40%25');
  });

  it('encodes the UTF-8 bytes of other characters in upper-case hex', () => {
    expect(percentEncode('été')).toBe('%C3%A9t%C3%A9');
    expect(percentEncode('🔑')).toBe('%F0%9F%94%91');
  });
});

describe('baseStringUri (RFC 5849 section 3.4.1.2)', () => {
  it('lower-cases scheme and host, drops the default port, keeps the path as sent', () => {
    expect(baseStringUri(new URL('HTTP://EXAMPLE.COM:80/r%20v/X?id=123'))).toBe(
      'http://example.com/r%20v/X',
    );
    expect(baseStringUri(new URL('https://www.example.net:8080/?q=1'))).toBe(
      'https://www.example.net:8080/',
    );
    expect(baseStringUri(new URL('https://Api.Example.com:443/a/B#frag'))).toBe(
      'https://api.example.com/a/B',
    );
  });
});

describe('signatureBaseString', () => {
  it('builds the example of RFC 5849 section 3.4.1.1', () => {
    // POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b with the form body c2&a3=2+q.
    const url = new URL('http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b');
    const parameters: SignedParameter[] = [
      ...url.searchParams,
      ...new URLSearchParams('c2&a3=2+q'),
      ['oauth_consumer_key', '9djdj82h48djs9d2'],
      ['oauth_token', 'kkk9d7dh3k39sjv7'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131201'],
      ['oauth_nonce', '7d8f3e4a'],
    ];

    expect(signatureBaseString('post', baseStringUri(url), parameters)).toBe(
      'POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26' +
        'b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26' +
        'oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26' +
        'oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7',
    );
  });

  it('signs the request of RFC 5849 section 1.2 as the RFC does', () => {
    const url = new URL('http://photos.example.net/photos?file=vacation.jpg&size=original');
    const parameters: SignedParameter[] = [
      ...url.searchParams,
      ['oauth_consumer_key', 'dpf43f3p2l4k3l03'],
      ['oauth_token', 'nnch734d00sl2jdk'],
      ['oauth_signature_method', 'HMAC-SHA1'],
      ['oauth_timestamp', '137131202'],
      ['oauth_nonce', 'chapoH'],
    ];

    const base = signatureBaseString('GET', baseStringUri(url), parameters);
    expect(hmacSha1Signature(base, 'kd94hf93k423kf44', 'pfkkdhi9sl3r4s00')).toBe(
      'MdpQcU8iPSUjWoN/UDMsK2sui9I=',
    );
  });

  it('sorts by encoded name, then by encoded value', () => {
    const parameters: SignedParameter[] = [
      ['b', '2'],
      ['a', 'z'],
      ['a', ' '],
      ['a', 'Z'],
      ['A', '1'],
    ];
    // A (0x41) < a (0x61); among the a values %20 < Z < z.
    expect(signatureBaseString('GET', 'http://h/', parameters)).toBe(
      'GET&http%3A%2F%2Fh%2F&A%3D1%26a%3D%2520%26a%3DZ%26a%3Dz%26b%3D2',
    );
  });
});
