import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

import { ErrorCode } from '../../core/errors/codes';
import type { Destination } from '../../core/mapping/mapping-table';
import { hasControlCharacters, LP_HEADERS } from './header-policy';
import { invalidRequest, ProxyRequestError } from './proxy-request-errors';

/** The three ways an application reaches the proxy. */
export type RequestForm = 'forward-proxy' | 'transparent' | 'forwarding-method';

/** What the proxy learned from a request: where it goes and how the forwarding method shaped it. */
export type RequestTarget = {
  form: RequestForm;
  destination: Destination;
  /** LP-authorization-override: the Authorization header the upstream receives instead. */
  authorizationOverride?: string;
  /** LP-service-name, kept for the access log. */
  serviceName?: string;
  /** LP-stop-if-certificate-not-found: fail rather than pass an unmapped call through. */
  stopIfUnmapped: boolean;
};

const FORWARDING_PATH = /^\/mtls\/account\/([^/?]+)\/?(?:\?.*)?$/;

/** The parts of a request its target is worked out from (an IncomingMessage has them). */
export type RequestLine = { url?: string; headers: IncomingHttpHeaders };

function singleHeader(req: RequestLine, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value.join(',') : value;
  if (text !== undefined && hasControlCharacters(text)) {
    throw invalidRequest(`header ${name} contains control characters`);
  }
  return text;
}

/**
 * Splits the Host header of a redirected call (`host[:port]`, IPv6 in brackets) and checks it is
 * a plausible host. The application called an http:// URL, so port 80, named or not, is its
 * scheme's default and maps to 443 upstream, as in the forward-proxy form.
 */
function parseHostHeader(authority: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(`http://${authority}`);
  } catch {
    throw invalidRequest(`'${authority}' is not a valid host`);
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw invalidRequest(`'${authority}' is not a valid host`);
  }
  return { host: unbracket(url.hostname), port: url.port ? Number(url.port) : 443 };
}

function unbracket(host: string): string {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  return bare.toLowerCase();
}

/** The namespace segment of a forwarding path, percent-decoded; a broken escape is a 400. */
function decodeNamespace(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidRequest(
      `the forwarding path /mtls/account/${segment} is not valid percent-encoding`,
    );
  }
}

function destinationOfUrl(raw: string, what: string): Destination {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidRequest(`${what} '${raw}' is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidRequest(`${what} must be an http or https URL, got ${url.protocol}`);
  }
  if (url.username || url.password) throw invalidRequest(`${what} must not carry credentials`);

  // The application speaks plain HTTP to the proxy; the upstream hop is always TLS, on the port
  // the URL names or 443.
  return {
    host: unbracket(url.hostname),
    port: url.port ? Number(url.port) : 443,
    path: `${url.pathname}${url.search}`,
  };
}

/**
 * Works out the destination of a request in any of its three forms: an absolute URI (forward
 * proxy), the forwarding method `/mtls/account/<namespace>` with `LP-forward-url`, or an
 * origin-form request redirected transparently (destination from the Host header).
 */
export function resolveRequestTarget(req: RequestLine, namespace: string): RequestTarget {
  const rawUrl = req.url ?? '/';
  if (hasControlCharacters(rawUrl) || rawUrl.includes(' ')) {
    throw invalidRequest('the request target contains control characters');
  }
  if (
    req.headers['content-length'] !== undefined &&
    req.headers['transfer-encoding'] !== undefined
  ) {
    throw invalidRequest('a request must not carry both Content-Length and Transfer-Encoding');
  }
  const lpOptions = {
    authorizationOverride: singleHeader(req, LP_HEADERS.authorizationOverride),
    serviceName: singleHeader(req, LP_HEADERS.serviceName),
    // Clients spell the flag True or TRUE as often as true.
    stopIfUnmapped:
      singleHeader(req, LP_HEADERS.stopIfCertificateNotFound)?.trim().toLowerCase() === 'true',
  };

  if (!rawUrl.startsWith('/')) {
    return {
      form: 'forward-proxy',
      destination: destinationOfUrl(rawUrl, 'the request URI'),
      ...lpOptions,
    };
  }

  const forwarding = FORWARDING_PATH.exec(rawUrl);
  const forwardUrl = singleHeader(req, LP_HEADERS.forwardUrl);
  if (forwarding && forwardUrl !== undefined) {
    if (decodeNamespace(forwarding[1]) !== namespace) {
      throw new ProxyRequestError(
        404,
        ErrorCode.ProxyDestinationUnmapped,
        `this proxy serves namespace ${namespace}, not ${forwarding[1]}`,
      );
    }
    return {
      form: 'forwarding-method',
      destination: destinationOfUrl(forwardUrl, 'LP-forward-url'),
      ...lpOptions,
    };
  }
  if (forwarding) throw invalidRequest('the forwarding method needs the LP-forward-url header');

  const host = singleHeader(req, 'host');
  if (!host) throw invalidRequest('a request without an absolute URI needs a Host header');
  const authority = parseHostHeader(host);
  if (isIP(authority.host) === 0 && !/^[a-z0-9.-]+$/.test(authority.host)) {
    throw invalidRequest(`'${host}' is not a valid host`);
  }
  return { form: 'transparent', destination: { ...authority, path: rawUrl }, ...lpOptions };
}
