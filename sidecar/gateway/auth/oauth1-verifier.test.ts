import { createHmac } from 'node:crypto';

import OAuth from 'oauth-1.0a';

import { ErrorCode, MtlsError } from '../../../core/errors/codes';
import { MemoryNonceStore } from './memory-nonce-store';
import { oauth1ErrorCodes, OAuth1Verifier, type OAuth1VerifierOptions } from './oauth1-verifier';
import { StaticConsumerStore } from './static-consumer-store';

const shop = { key: 'shop-key', secret: 'shop secret+~é', namespaces: ['shop', 'shop-staging'] };

/** A client of the independent oauth-1.0a library, as a partner's code would sign. */
function client(
  consumer = { key: shop.key, secret: shop.secret },
  method: 'HMAC-SHA1' | 'HMAC-SHA256' = 'HMAC-SHA1',
  extra: Partial<OAuth.Options> = {},
): OAuth {
  const digest = method === 'HMAC-SHA1' ? 'sha1' : 'sha256';
  return new OAuth({
    consumer,
    signature_method: method,
    hash_function: (base, key) => createHmac(digest, key).update(base).digest('base64'),
    ...extra,
  });
}

/** Signs a request with the client; form data is sent as an urlencoded body. */
function signed(
  oauth: OAuth,
  method: string,
  url: string,
  form?: Record<string, string>,
  token?: OAuth.Token,
): { method: string; url: URL; authorization: string; formParameters?: URLSearchParams } {
  // A copy: the library merges the query parameters into the data object it is given.
  const data = form ? { ...form } : undefined;
  const authorization = oauth.toHeader(oauth.authorize({ url, method, data }, token));
  // The body goes over the wire encoded, and the gateway decodes it again.
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return {
    method,
    url: new URL(url),
    authorization: authorization.Authorization,
    formParameters: body === undefined ? undefined : new URLSearchParams(body),
  };
}

function verifier(options: Partial<OAuth1VerifierOptions> = {}): OAuth1Verifier {
  return new OAuth1Verifier({
    consumers: new StaticConsumerStore([shop, { key: 'bank', secret: 's', namespaces: [] }]),
    nonces: new MemoryNonceStore(),
    ...options,
  });
}

describe('OAuth1Verifier accepts requests signed by an independent client', () => {
  it('GET with a query, repeated names included', async () => {
    const request = signed(client(), 'GET', 'https://gw.example/v1/maps?tag=b&tag=a&limit=5');
    await expect(verifier().verify(request)).resolves.toEqual(shop);
  });

  it('POST with a form body, whose parameters are signed', async () => {
    const form = { amount: '10.00', note: 'a b+c ~d é' };
    const request = signed(client(), 'POST', 'https://gw.example/v1/pay', form);
    await expect(verifier().verify(request)).resolves.toEqual(shop);
  });

  it('POST with a JSON body, which is not signed', async () => {
    const request = signed(client(), 'POST', 'https://gw.example/v1/pay?dry=true');
    await expect(verifier().verify(request)).resolves.toEqual(shop);
  });

  it('a non-default port, which is part of what is signed', async () => {
    const request = signed(client(), 'PUT', 'https://gw.example:8443/v1/x?y=1');
    await expect(verifier().verify(request)).resolves.toEqual(shop);

    const elsewhere = signed(client(), 'PUT', 'https://gw.example:8443/v1/x?y=1');
    elsewhere.url = new URL('https://gw.example:9443/v1/x?y=1');
    await expect(verifier().verify(elsewhere)).rejects.toMatchObject({
      code: ErrorCode.OAuthBadSignature,
    });
  });

  it('spaces, plus signs, tildes, reserved and non-ASCII characters', async () => {
    const url =
      'http://gw.example/files/r%20v/~me?q=hello%20world&plus=1%2B1&tilde=~user' +
      '&reserved=%21%2A%27%28%29%26%3D&unicode=%C3%A9t%C3%A9%20%F0%9F%94%91&empty=';
    const form = { 'na me': 'x+y z', '~': '~', ключ: 'значение 🔑' };
    const request = signed(client(), 'POST', url, form);
    await expect(verifier().verify(request)).resolves.toEqual(shop);
  });

  it('an upper-case host and an explicit default port as the gateway received them', async () => {
    const request = signed(client(), 'GET', 'https://gw.example/v1/x');
    request.url = new URL('https://GW.Example:443/v1/x');
    await expect(verifier().verify(request)).resolves.toEqual(shop);
  });

  it('a realm and an empty oauth_token, which two-legged clients may send', async () => {
    const oauth = client(undefined, 'HMAC-SHA1', { realm: 'gateway' });
    const request = signed(oauth, 'GET', 'https://gw.example/x', undefined, {
      key: '',
      secret: '',
    });
    expect(request.authorization).toMatch(/realm="gateway".*oauth_token=""/);
    await expect(verifier().verify(request)).resolves.toEqual(shop);
  });

  it('behind a proxy, the external URL the client signed', async () => {
    const request = signed(client(), 'GET', 'https://api.example.com/v1/x?y=1');
    request.url = new URL('http://10.0.0.5:15001/v1/x?y=1');

    await expect(verifier().verify(request)).rejects.toMatchObject({
      code: ErrorCode.OAuthBadSignature,
      message: expect.stringContaining('GET http://10.0.0.5:15001/v1/x'),
    });
    const external = verifier({ externalBaseUrl: new URL('https://API.example.com') });
    await expect(external.verify(request)).resolves.toEqual(shop);
  });
});

describe('OAuth1Verifier refuses', () => {
  const url = 'https://gw.example/v1/x?y=1';

  async function refusal(
    request: Parameters<OAuth1Verifier['verify']>[0],
    options: Partial<OAuth1VerifierOptions> = {},
  ): Promise<string> {
    const error = await verifier(options)
      .verify(request)
      .then(
        () => new Error('accepted'),
        (err: unknown) => err,
      );
    if (!(error instanceof MtlsError)) throw error;
    expect(oauth1ErrorCodes.has(error.code)).toBe(true);
    return error.code;
  }

  it('a request without an OAuth Authorization header', async () => {
    const request = signed(client(), 'GET', url);
    expect(await refusal({ ...request, authorization: undefined })).toBe(ErrorCode.OAuthMissing);
    expect(await refusal({ ...request, authorization: 'Bearer abc' })).toBe(ErrorCode.OAuthMissing);
  });

  it('a header that cannot be read, or lacks or repeats a parameter', async () => {
    const request = signed(client(), 'GET', url);
    const broken = request.authorization.replace(/"$/, '');
    const lacking = request.authorization.replace(/oauth_nonce="[^"]*", /, '');
    const repeated = `${request.authorization}, oauth_nonce="again"`;
    const badTimestamp = request.authorization.replace(
      /oauth_timestamp="\d+"/,
      'oauth_timestamp="1e9"',
    );

    for (const authorization of [broken, lacking, repeated, badTimestamp, 'OAuth ']) {
      expect(await refusal({ ...request, authorization })).toBe(ErrorCode.OAuthMalformed);
    }
  });

  it('OAuth parameters in the query instead of the header', async () => {
    const request = signed(client(), 'GET', `${url}&oauth_callback=oob`);
    expect(await refusal(request)).toBe(ErrorCode.OAuthMalformed);
  });

  it('a signature made with the wrong secret', async () => {
    const request = signed(client({ key: shop.key, secret: 'guessed' }), 'GET', url);
    expect(await refusal(request)).toBe(ErrorCode.OAuthBadSignature);
  });

  it('a parameter changed after signing', async () => {
    const request = signed(client(), 'POST', url, { amount: '10' });
    request.formParameters = new URLSearchParams('amount=1000');
    expect(await refusal(request)).toBe(ErrorCode.OAuthBadSignature);

    const query = signed(client(), 'GET', url);
    query.url.searchParams.set('y', '2');
    expect(await refusal(query)).toBe(ErrorCode.OAuthBadSignature);
  });

  it('an unknown consumer key', async () => {
    const request = signed(client({ key: 'nobody', secret: shop.secret }), 'GET', url);
    expect(await refusal(request)).toBe(ErrorCode.OAuthUnknownConsumer);
  });

  it('a nonce sent twice, though a refused request does not use it up', async () => {
    const oauth = client();
    oauth.getNonce = () => 'the-same-nonce';
    const nonces = new MemoryNonceStore();
    const checker = verifier({ nonces });

    const forged = signed(client({ key: shop.key, secret: 'guessed' }), 'GET', url);
    forged.authorization = forged.authorization.replace(
      /oauth_nonce="\w+"/,
      'oauth_nonce="the-same-nonce"',
    );
    await expect(checker.verify(forged)).rejects.toMatchObject({
      code: ErrorCode.OAuthBadSignature,
    });

    const request = signed(oauth, 'GET', url);
    await expect(checker.verify(request)).resolves.toEqual(shop);
    await expect(checker.verify(request)).rejects.toMatchObject({
      code: ErrorCode.OAuthReplayedNonce,
    });
  });

  it('timestamps too old or too far in the future for the window', async () => {
    const request = signed(client(), 'GET', url);
    const later = () => Date.now() + 301_000;
    const earlier = () => Date.now() - 301_000;

    expect(await refusal(request, { now: later })).toBe(ErrorCode.OAuthStaleTimestamp);
    expect(await refusal(request, { now: earlier })).toBe(ErrorCode.OAuthStaleTimestamp);
    expect(await refusal(request, { now: later, timestampWindowSeconds: 60 })).toBe(
      ErrorCode.OAuthStaleTimestamp,
    );
    await expect(verifier({ now: () => Date.now() + 295_000 }).verify(request)).resolves.toEqual(
      shop,
    );
  });

  it('signature methods other than HMAC-SHA1', async () => {
    const sha256 = signed(client(undefined, 'HMAC-SHA256'), 'GET', url);
    expect(await refusal(sha256)).toBe(ErrorCode.OAuthUnsupportedMethod);

    const plaintext = signed(
      client(undefined, 'HMAC-SHA1', { signature_method: 'PLAINTEXT' }),
      'GET',
      url,
    );
    expect(await refusal(plaintext)).toBe(ErrorCode.OAuthUnsupportedMethod);
  });

  it('an oauth_version other than 1.0', async () => {
    const request = signed(client(undefined, 'HMAC-SHA1', { version: '2.0' }), 'GET', url);
    expect(await refusal(request)).toBe(ErrorCode.OAuthUnsupportedVersion);
  });

  it('a token, which this gateway never issues, and a body hash it cannot check', async () => {
    const token = { key: 'tok', secret: '' };
    expect(await refusal(signed(client(), 'GET', url, undefined, token))).toBe(
      ErrorCode.OAuthUnsupportedParameter,
    );

    const withHash = client(undefined, 'HMAC-SHA1', {
      body_hash_function: (body: string) => createHmac('sha1', '').update(body).digest('base64'),
    });
    const authorization = withHash.toHeader(
      withHash.authorize({ url, method: 'POST', data: '{}', includeBodyHash: true }),
    ).Authorization;
    expect(await refusal({ method: 'POST', url: new URL(url), authorization })).toBe(
      ErrorCode.OAuthUnsupportedParameter,
    );
  });
});

describe('OAuth1Verifier options', () => {
  it('refuses an external base URL that is more than an origin', () => {
    expect(() => verifier({ externalBaseUrl: new URL('https://gw.example/prefix') })).toThrow(
      /must be an origin/,
    );
  });
});
