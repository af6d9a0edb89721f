import type { UrlMatch } from './index-document';

/** Thrown for a mapping URL that cannot be matched; the message says what is wrong. */
export class MappingUrlError extends Error {}

/**
 * Parses a mapping's URL into what a sidecar matches: https only, a lower-case host (or
 * `*.` and a domain), the port (443 when absent), and a path prefix that starts with `/`.
 */
export function parseMappingUrl(url: string): UrlMatch {
  let parsed: URL;
  try {
    parsed = new URL(url.replace('://*.', '://wildcard-label.'));
  } catch {
    throw new MappingUrlError(`'${url}' is not a URL`);
  }
  if (parsed.protocol !== 'https:') {
    throw new MappingUrlError(`'${url}' must use https: the sidecar originates TLS`);
  }
  if (parsed.username || parsed.password) {
    throw new MappingUrlError(`'${url}' must not carry a user name or password`);
  }
  if (parsed.search || parsed.hash) {
    throw new MappingUrlError(`'${url}' must not have a query or a fragment`);
  }

  const host = parsed.hostname.replace(/^wildcard-label\./, '*.');
  return {
    scheme: 'https',
    host,
    port: parsed.port ? Number(parsed.port) : 443,
    pathPrefix: decodeURIComponent(parsed.pathname) || '/',
  };
}

/** A text key of a match, equal for mappings that claim the same URL. */
export function urlMatchKey(match: UrlMatch): string {
  return `${match.scheme}://${match.host}:${match.port}${match.pathPrefix}`;
}
