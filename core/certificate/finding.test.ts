import { hasCode } from '../errors/codes';
import { assertInputSize, CertificateInputError, MAX_INPUT_BYTES } from './finding';

describe('assertInputSize', () => {
  it('allows up to 64 KiB and refuses one byte more, saying what was too large', () => {
    expect(MAX_INPUT_BYTES).toBe(65536);
    expect(() => assertInputSize('The PKCS#12 file', 65536)).not.toThrow();

    let refused: unknown;
    try {
      assertInputSize('The PKCS#12 file', 65537);
    } catch (err) {
      refused = err;
    }

    expect(hasCode(refused, 'INPUT_TOO_LARGE')).toBe(true);
    expect((refused as CertificateInputError).toFinding()).toEqual({
      code: 'INPUT_TOO_LARGE',
      message:
        'The PKCS#12 file is 65537 bytes, more than the limit of 65536 bytes; a client ' +
        'certificate with its chain is a few KiB, check that the right file was given',
    });
  });

  it('takes another limit', () => {
    expect(() => assertInputSize('caPem', 11, 10)).toThrow('caPem is 11 bytes');
  });
});
