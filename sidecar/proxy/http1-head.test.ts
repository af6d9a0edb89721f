import { parseRequestHead, parseResponseHead, UpstreamProtocolError } from './http1-head';

const request = (text: string) => parseRequestHead(Buffer.from(text, 'latin1'));
const response = (text: string, method = 'GET') =>
  parseResponseHead(Buffer.from(text, 'latin1'), method);

describe('parseRequestHead', () => {
  it('parses a request head with its headers in order and its body length', () => {
    const text =
      'POST http://a.example/x?y=1 HTTP/1.1\r\nHost: a.example\r\nX-Two:  2 \r\n' +
      'Content-Length: 12\r\nConnection: keep-alive, close\r\n\r\ntwelve bytes';
    const head = request(text);

    expect(head).toMatchObject({
      method: 'POST',
      url: 'http://a.example/x?y=1',
      names: ['Host', 'X-Two', 'Content-Length', 'Connection'],
      values: ['a.example', '2', '12', 'keep-alive, close'],
      headers: { host: 'a.example', 'x-two': '2', 'content-length': '12' },
      headBytes: text.indexOf('twelve'),
      bodyBytes: 12,
      close: true,
    });
  });

  it('waits for the blank line that ends the head', () => {
    expect(request('GET / HTTP/1.1\r\nHost: a\r\n')).toBe('incomplete');
  });

  it.each([
    ['another version', 'GET / HTTP/1.0\r\nHost: a\r\n\r\n'],
    ['CONNECT', 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n'],
    ['a chunked body', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'],
    ['expect-continue', 'PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n'],
    ['an upgrade', 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n'],
    ['a repeated header', 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n'],
    ['a bad Content-Length', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e3\r\n\r\n'],
    ['a CR inside a value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\rInjected: b\r\n\r\n'],
    ['a control character', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\u0001b\r\n\r\n'],
    ['a folded line', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['a bare LF', 'GET / HTTP/1.1\nHost: a\n\n\r\n\r\n'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'],
  ])('leaves a request with %s to Node', (_what, text) => {
    expect(request(text)).toBe('unsupported');
  });

  it('leaves an oversized head to Node, complete or not', () => {
    const big = `GET / HTTP/1.1\r\nX: ${'a'.repeat(17 * 1024)}\r\n`;
    expect(request(big)).toBe('unsupported');
    expect(request(`${big}\r\n`)).toBe('unsupported');
  });
});

describe('parseResponseHead', () => {
  it('frames a body by Content-Length and reads the keep-alive hint', () => {
    const head = response(
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nKeep-Alive: timeout=5\r\n\r\nhello',
    );
    expect(head).toMatchObject({
      status: 200,
      framing: 'length',
      length: 5,
      keepAlive: true,
      keepAliveSeconds: 5,
    });
  });

  it('frames chunked bodies, bodies until close, and no body for HEAD, 204 and 304', () => {
    expect(response('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')).toMatchObject({
      framing: 'chunked',
      keepAlive: true,
    });
    expect(response('HTTP/1.1 200 OK\r\n\r\n')).toMatchObject({
      framing: 'until-close',
      keepAlive: false,
    });
    expect(response('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', 'HEAD')).toMatchObject({
      framing: 'none',
      contentLength: '9',
    });
    expect(response('HTTP/1.1 204 No Content\r\n\r\n')).toMatchObject({ framing: 'none' });
    expect(response('HTTP/1.1 304 Not Modified\r\n\r\n')).toMatchObject({ framing: 'none' });
  });

  it('keeps an HTTP/1.0 connection only when the upstream says keep-alive', () => {
    expect(response('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')).toMatchObject({
      keepAlive: false,
    });
    expect(
      response('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n'),
    ).toMatchObject({ keepAlive: true });
    expect(
      response('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'),
    ).toMatchObject({ keepAlive: false });
  });

  it('waits for the whole head', () => {
    expect(response('HTTP/1.1 200 OK\r\nContent-Le')).toBeUndefined();
  });

  it.each([
    ['a bad status line', 'HTTP/2 200\r\n\r\n'],
    [
      'both Content-Length and chunked',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n' + 'Transfer-Encoding: chunked\r\n\r\n',
    ],
    ['two different lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n'],
    ['an unknown coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['a header split by a CR', 'HTTP/1.1 200 OK\r\nX: a\rSet-Cookie: b\r\n\r\n'],
  ])('refuses a response with %s', (_what, text) => {
    expect(() => response(text)).toThrow(UpstreamProtocolError);
  });
});
