import { MtlsError, ErrorCode } from '../../core/errors/codes';
import { isTerminalError, TerminalError } from './terminal-error';

describe('isTerminalError', () => {
  it('recognises a TerminalError and a wrapped error, keeping the message and the cause', () => {
    const cause = new MtlsError(ErrorCode.ConfigInvalid, 'the Secret has no tls.key');
    const wrapped = TerminalError.wrap(cause);

    expect(isTerminalError(new TerminalError('bad input'))).toBe(true);
    expect(isTerminalError(wrapped)).toBe(true);
    expect(wrapped.message).toBe('the Secret has no tls.key');
    expect(wrapped.cause).toBe(cause);
  });

  it('recognises any error flagged terminal, and nothing else', () => {
    class InvalidCertificate extends MtlsError {
      readonly terminal = true;
    }

    expect(isTerminalError(new InvalidCertificate(ErrorCode.ConfigInvalid, 'expired'))).toBe(true);
    expect(isTerminalError(new MtlsError(ErrorCode.VaultUnavailable, 'down'))).toBe(false);
    expect(isTerminalError(new Error('timeout'))).toBe(false);
    expect(isTerminalError(undefined)).toBe(false);
  });
});
