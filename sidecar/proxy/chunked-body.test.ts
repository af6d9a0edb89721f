import { ChunkedBody } from './chunked-body';
import { UpstreamProtocolError } from './http1-head';

/** Feeds `parts` one after another; returns the decoded data and where the body ended. */
function feed(parts: string[]): { data: string; endedAt: number; part: number } {
  const body = new ChunkedBody();
  let data = '';
  for (let part = 0; part < parts.length; part++) {
    const end = body.read(Buffer.from(parts[part], 'latin1'), 0, (bytes) => {
      data += bytes.toString('latin1');
    });
    if (end >= 0) return { data, endedAt: end, part };
  }
  return { data, endedAt: -1, part: -1 };
}

describe('ChunkedBody', () => {
  it('finds the end of a body and decodes its data', () => {
    const wire = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\nNEXT';
    expect(feed([wire])).toEqual({ data: 'hello world', endedAt: wire.length - 4, part: 0 });
  });

  it('follows a body split anywhere, trailers included', () => {
    const wire = 'a\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n';
    for (let cut = 1; cut < wire.length; cut++) {
      const result = feed([wire.slice(0, cut), wire.slice(cut)]);
      expect({ cut, data: result.data, part: result.part }).toEqual({
        cut,
        data: '0123456789',
        part: 1,
      });
    }
  });

  it('goes on until the last chunk', () => {
    expect(feed(['3\r\nabc\r\n']).endedAt).toBe(-1);
  });

  it.each([
    ['a size that is not hex', 'x\r\n'],
    ['a missing CRLF after data', '3\r\nabcd\r\n'],
    ['a bare LF in a trailer', '0\r\nX: 1\n\r\n'],
    ['a size beyond any real chunk', '1000000000000\r\n'],
  ])('refuses %s', (_what, wire) => {
    expect(() => feed([wire])).toThrow(UpstreamProtocolError);
  });
});
