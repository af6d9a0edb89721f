import { ErrorCode, MtlsError } from '../../core/errors/codes';

/** An answer the gateway gives instead of doing what was asked: status, code, message. */
export class GatewayError extends MtlsError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    /** Headers the answer carries besides the JSON body (WWW-Authenticate, Allow...). */
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
    this.name = 'GatewayError';
  }
}

/** A request whose body or parameters do not fit the operation: 400. */
export function invalidApiRequest(message: string): GatewayError {
  return new GatewayError(400, ErrorCode.ApiRequestInvalid, message);
}
