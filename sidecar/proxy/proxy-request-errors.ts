import { ErrorCode, MtlsError } from '../../core/errors/codes';

/** A request the proxy refuses before any upstream is tried, with the status the client sees. */
export class ProxyRequestError extends MtlsError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'ProxyRequestError';
  }
}

/** A malformed or dangerous request: 400. */
export function invalidRequest(message: string): ProxyRequestError {
  return new ProxyRequestError(400, ErrorCode.ProxyRequestInvalid, message);
}
