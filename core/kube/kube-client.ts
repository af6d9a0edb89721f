import http from 'node:http';
import https from 'node:https';

import { ErrorCode, MtlsError } from '../errors/codes';
import type { KubeConnection } from './kube-connection';

/** The shape of the apiserver's error answers (a v1 Status). */
type ApiStatus = { kind?: string; message?: string; reason?: string; code?: number };

/** A request the apiserver answered with an error status. */
export class KubeApiError extends MtlsError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(ErrorCode.KubeApiFailed, message);
  }
}

/** True when the apiserver answered that the object does not exist. */
export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

/** True when the apiserver refused a write because the object changed since it was read. */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

/** True when the apiserver refused a request as invalid (a failed JSON patch test among them). */
export function isInvalid(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 422;
}

/** True when a watch or list resumed from a resourceVersion the apiserver no longer keeps. */
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}

/** True when the object to create exists already. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409 && err.reason === 'AlreadyExists';
}

/** The patch formats the apiserver accepts. */
export const PatchType = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;

/** Options of one request. */
export type KubeRequest = {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** The representation asked for; default plain JSON. */
  accept?: string;
  timeoutMs?: number;
};

/**
 * Accept headers that ask for metadata only (PartialObjectMetadata), for callers that need to
 * know which objects exist and when they change, not their content. The apiserver goes by the
 * first type it can serve, so a list and a watch each need their own.
 */
export const MetadataOnly = {
  /** For a list: a PartialObjectMetadataList. */
  list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
  /** For one object, and for the object of each watch event. */
  object: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json',
} as const;

/** What a watch reports: each event, and its end (an error, or undefined when it closed). */
export type WatchHandlers<T> = {
  onEvent: (type: string, object: T) => void;
  onDone: (err?: unknown) => void;
};

// Ordinary requests are bounded; a watch is bounded by its own timeoutSeconds instead.
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * How long a watch may stay silent before the connection is taken for dead: the apiserver ends
 * it after timeoutSeconds, so silence well past that means a half-open connection, which TCP
 * keepalive alone would notice only after some eleven minutes.
 */
export function watchSilenceLimitMs(timeoutSeconds: number): number {
  if (!(timeoutSeconds > 0)) return 0;
  return timeoutSeconds * 1000 + Math.min(30_000, timeoutSeconds * 1000);
}

/**
 * A small JSON client of the Kubernetes API over one keep-alive connection pool. The project
 * needs a handful of verbs on a handful of resources; the generated client costs some 70 MB of
 * memory to load, more than the rest of the operator, so the programs speak to the API directly.
 */
export class KubeClient {
  private readonly agent: https.Agent | http.Agent;

  constructor(
    readonly connection: KubeConnection,
    maxSockets = 16,
  ) {
    const secure = connection.server.startsWith('https:');
    this.agent = secure
      ? new https.Agent({ ...connection.tls, keepAlive: true, maxSockets })
      : new http.Agent({ keepAlive: true, maxSockets });
  }

  /** The namespace of the kubeconfig's context or of the pod. */
  get namespace(): string {
    return this.connection.namespace;
  }

  /** Sends one request and returns the parsed JSON answer; an error status throws KubeApiError. */
  async request<T>(method: string, path: string, options: KubeRequest = {}): Promise<T> {
    const response = await this.send(method, path, options);
    const text = await readAll(response);
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) throw apiError(method, path, status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Reads one object, or undefined when it does not exist. */
  async get<T>(path: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates an object in a collection. */
  create<T>(collectionPath: string, object: unknown): Promise<T> {
    return this.request<T>('POST', collectionPath, { body: object });
  }

  /** Patches an object, as a merge patch unless another type is given. */
  patch<T>(path: string, patch: unknown, type: string = PatchType.merge): Promise<T> {
    return this.request<T>('PATCH', path, { body: patch, contentType: type });
  }

  /** Replaces an object; its resourceVersion makes the write conditional. */
  replace<T>(path: string, object: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body: object });
  }

  /** Deletes an object; true when it was there. */
  async delete(path: string): Promise<boolean> {
    try {
      await this.request('DELETE', path);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Starts a watch and reports its events one JSON line at a time. The returned controller
   * stops it; `onDone` is called once, when the apiserver closes the stream or it fails. With
   * `timeoutSeconds` in the query, a stream silent past `watchSilenceLimitMs` of it fails.
   */
  async watch<T>(
    path: string,
    query: KubeRequest['query'],
    handlers: WatchHandlers<T>,
    options: Pick<KubeRequest, 'accept'> = {},
  ): Promise<AbortController> {
    const abort = new AbortController();
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      handlers.onDone(err);
    };

    const response = await this.send('GET', path, {
      query: { ...query, watch: true },
      accept: options.accept,
      timeoutMs: watchSilenceLimitMs(Number(query?.timeoutSeconds)),
      signal: abort.signal,
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      throw apiError('WATCH', path, status, await readAll(response));
    }

    let pending = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (done) return;
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim()) {
          let event: { type: string; object: T };
          try {
            event = JSON.parse(line) as { type: string; object: T };
          } catch (err) {
            // Not an event (a proxy's error page, say): end this watch; the caller resumes it.
            finish(err);
            response.destroy();
            return;
          }
          handlers.onEvent(event.type, event.object);
        }
        newline = pending.indexOf('\n');
      }
    });
    response.on('end', () => finish());
    response.on('error', (err) => finish(abort.signal.aborted ? undefined : err));
    response.on('close', () => finish());
    return abort;
  }

  /** Closes the idle connections of the pool. */
  close(): void {
    this.agent.destroy();
  }

  private send(
    method: string,
    path: string,
    options: KubeRequest & { signal?: AbortSignal },
  ): Promise<http.IncomingMessage> {
    const url = new URL(this.connection.server + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }

    const headers: http.OutgoingHttpHeaders = { accept: options.accept ?? 'application/json' };
    const authorization = this.connection.authorization();
    if (authorization) headers.authorization = authorization;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }

    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, {
        method,
        headers,
        agent: this.agent,
        signal: options.signal,
      });
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      if (timeoutMs > 0) {
        request.setTimeout(timeoutMs, () => {
          request.destroy(new Error(`${method} ${url.pathname} timed out after ${timeoutMs} ms`));
        });
      }
      request.on('response', resolve);
      request.on('error', reject);
      request.end(payload);
    });
  }
}

function readAll(response: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

function apiError(method: string, path: string, status: number, text: string): KubeApiError {
  let parsed: ApiStatus = {};
  try {
    parsed = JSON.parse(text) as ApiStatus;
  } catch {
    // Not a Status object (a proxy in between, say): the status line is all there is.
  }
  const reason = parsed.reason ?? '';
  const detail = parsed.message ?? (text.slice(0, 200) || `HTTP ${status}`);
  return new KubeApiError(
    status,
    reason,
    `${method} ${path}: ${status} ${reason} ${detail}`.trim(),
  );
}
