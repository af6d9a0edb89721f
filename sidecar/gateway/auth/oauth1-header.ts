import { ErrorCode, MtlsError } from '../../../core/errors/codes';

// One `name="value"` pair of the header, then a comma or the end; whitespace around each part.
const PAIR = /[ \t]*([^\s=,"]+)[ \t]*=[ \t]*"([^"]*)"[ \t]*(?:,|$)/y;

/**
 * Reads the parameters of an `Authorization: OAuth ...` header (RFC 5849 section 3.5.1), names
 * and values percent-decoded, in the order sent. Throws OAUTH_MISSING when there is no header
 * of the OAuth scheme, OAUTH_MALFORMED when its parameter list cannot be read or repeats a name.
 */
export function parseOAuthHeader(header: string | undefined): Map<string, string> {
  const scheme = header === undefined ? undefined : /^OAuth(?:[ \t]+|$)/i.exec(header);
  if (header === undefined || !scheme) {
    throw new MtlsError(
      ErrorCode.OAuthMissing,
      'this endpoint needs an OAuth 1.0 signature: send an Authorization header of the ' +
        'OAuth scheme',
    );
  }

  const list = header.slice(scheme[0].length);
  const parameters = new Map<string, string>();
  PAIR.lastIndex = 0;
  while (PAIR.lastIndex < list.length) {
    const at = PAIR.lastIndex;
    const pair = PAIR.exec(list);
    if (!pair) throw malformed(`the parameter list cannot be read from character ${at + 1} on`);

    const name = decode(pair[1]);
    if (parameters.has(name)) throw malformed(`the parameter ${name} appears more than once`);
    parameters.set(name, decode(pair[2]));
  }
  return parameters;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw malformed('a parameter is not valid percent-encoded UTF-8');
  }
}

function malformed(detail: string): MtlsError {
  return new MtlsError(ErrorCode.OAuthMalformed, `malformed OAuth Authorization header: ${detail}`);
}
