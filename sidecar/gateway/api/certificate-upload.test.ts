import {
  certificateFromJson,
  certificatesFromBody,
  checkObjectName,
  p12FromJson,
} from './certificate-upload';

describe('certificate uploads', () => {
  it('reads a P12 as bytes 0..255, Java signed bytes, or base64', () => {
    const bytes = Buffer.from([0x30, 0x82, 0xff, 0x00]);
    expect(p12FromJson([0x30, 0x82, 0xff, 0x00]).equals(bytes)).toBe(true);
    expect(p12FromJson([48, -126, -1, 0]).equals(bytes)).toBe(true);
    expect(p12FromJson(bytes.toString('base64')).equals(bytes)).toBe(true);
    expect(p12FromJson(bytes.toString('base64url')).equals(bytes)).toBe(true);
  });

  it('says which byte or field is wrong', () => {
    expect(() => p12FromJson([1, 2, 300])).toThrow('p12[2] is not a byte');
    expect(() => p12FromJson([1.5])).toThrow('p12[0] is not a byte');
    expect(() => p12FromJson('not base64!')).toThrow('a byte array or a base64 string');
    expect(() => p12FromJson(undefined)).toThrow('p12 is required');
    expect(() => certificateFromJson({ name: 'a', p12: [1] })).toThrow('password is required');
    expect(() => certificateFromJson({ name: 'a', password: 'x', p12: [1] }, 'b')).toThrow(
      "differs from the path's name",
    );
  });

  it('takes Kubernetes object names only', () => {
    expect(checkObjectName('partner.bank-1')).toBe('partner.bank-1');
    for (const bad of ['Partner', '-x', 'x_y', '', 'a'.repeat(241), 42]) {
      expect(() => checkObjectName(bad)).toThrow('must be a Kubernetes object name');
    }
  });

  it('turns each unreadable entry of a list into a failure of its own', async () => {
    const entries = await certificatesFromBody({
      kind: 'json',
      value: [{ name: 'good', password: 'x', p12: [1] }, { name: 'Bad', password: 'x' }, 7],
    });
    expect(entries).toEqual([
      { name: 'good', displayName: undefined, password: 'x', p12: Buffer.from([1]) },
      { name: 'Bad', code: 'API_REQUEST_INVALID', message: expect.stringContaining('name') },
      { name: '#2', code: 'API_REQUEST_INVALID', message: expect.any(String) },
    ]);
  });
});
