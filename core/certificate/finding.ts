import { ErrorCode, MtlsError } from '../errors/codes';

/** One thing the analysis found: a stable code and a message a user can act on. */
export type CertificateFinding = {
  code: ErrorCode;
  message: string;
};

/**
 * Raised while reading certificate input when nothing further can be learned from it (wrong
 * password, not a PKCS#12 file, broken PEM). The analysis turns it into a problem.
 */
export class CertificateInputError extends MtlsError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'CertificateInputError';
  }

  /** The error as a finding for an analysis report. */
  toFinding(): CertificateFinding {
    return { code: this.code, message: this.message };
  }
}

/** Largest PKCS#12 file or PEM text accepted by default: real client certificates are a few KiB. */
export const MAX_INPUT_BYTES = 64 * 1024;

/** Refuses input larger than the limit before any parsing is attempted. */
export function assertInputSize(what: string, size: number, limit = MAX_INPUT_BYTES): void {
  if (size > limit) {
    throw new CertificateInputError(
      ErrorCode.InputTooLarge,
      `${what} is ${size} bytes, more than the limit of ${limit} bytes; ` +
        'a client certificate with its chain is a few KiB, check that the right file was given',
    );
  }
}
