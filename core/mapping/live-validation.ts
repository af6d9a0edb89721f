import type { UrlMatch } from './index-document';
import { probeMutualTls } from './mtls-probe';

/** The certificate and trust a live validation uses. */
export type ValidationCredentials = {
  chainPem: string;
  privateKeyPem: string;
  trustedCaPem?: string;
};

/**
 * Calls the mapping's URL over mutual TLS with its certificate (a HEAD request for the path
 * prefix, see probeMutualTls) and resolves with undefined when the server answers HTTP, with any
 * status, or with what went wrong. Wildcard hosts cannot be dialled and are reported as such.
 */
export async function validateLive(
  match: UrlMatch,
  credentials: ValidationCredentials,
  timeoutMs: number,
): Promise<string | undefined> {
  if (match.host.startsWith('*.'))
    return `a wildcard host (${match.host}) cannot be validated live`;

  const outcome = await probeMutualTls(
    { host: match.host, port: match.port, path: encodeURI(match.pathPrefix) },
    {
      chainPem: credentials.chainPem,
      privateKeyPem: credentials.privateKeyPem,
      extraCaPems: credentials.trustedCaPem ? [credentials.trustedCaPem] : [],
    },
    timeoutMs,
    'mtls-operator-validation',
  );
  return outcome.ok ? undefined : outcome.error;
}
