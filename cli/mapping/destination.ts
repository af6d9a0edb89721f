import type { Destination } from '../../core/mapping/mapping-table';
import { UsageError } from '../args/argv-parser';

/**
 * The destination of a call to a URL, as the sidecar works it out: the upstream hop is always
 * TLS, on the port the URL names or 443, whether the application wrote http or https. A URL
 * without a scheme is read as https.
 */
export function destinationOfUrl(raw: string): Destination {
  const text = raw.includes('://') ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`'${raw}' is not a URL; give one such as https://api.partner.example/v2/`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`'${raw}' must be an http or https URL`);
  }
  if (url.username || url.password) throw new UsageError(`'${raw}' must not carry credentials`);

  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host: host.toLowerCase(),
    port: url.port ? Number(url.port) : 443,
    path: `${url.pathname}${url.search}`,
  };
}
