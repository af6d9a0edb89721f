import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ApiGroup } from '../../../core/config/api-auth-policy';
import { ErrorCode, MtlsError } from '../../../core/errors/codes';
import { KubeApiError } from '../../../core/kube/kube-client';
import type { Logger } from '../../../core/log/logger';
import { statusClass } from '../../proxy/proxy-replies';
import type { Permission } from '../auth/access-reviewer';
import type { Caller, GatewayAuth } from '../auth/gateway-auth';
import { GatewayError } from '../gateway-error';
import type { GatewayMetrics } from '../gateway-metrics';

/** One request to an API operation. */
export type ApiRequest = {
  req: IncomingMessage;
  /** The path's parameters, decoded. */
  params: Record<string, string>;
  url: URL;
  /** Who sent it; absent for public operations. */
  caller?: Caller;
};

/** What an operation answers: JSON by default, or text of a given type. */
export type ApiAnswer = {
  status: number;
  body?: unknown;
  text?: { contentType: string; content: string };
  headers?: Record<string, string>;
};

/** An operation of the API. */
export type ApiRoute = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path as OpenAPI writes it: `/api/v1/accounts/{namespace}/certificates`. */
  path: string;
  operationId: string;
  /** Whose policy authenticates it, or public (the OpenAPI document). */
  group: ApiGroup | 'public';
  /** The RBAC permission checked in the path's namespace before the operation runs. */
  permission?: Permission;
  handle(request: ApiRequest): Promise<ApiAnswer>;
};

type CompiledRoute = ApiRoute & { pattern: RegExp; names: string[] };

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Finds the operation of a request, authenticates and authorizes the caller, runs it, and
 * turns every failure into a JSON `{code, message}` with its status.
 */
export class ApiRouter {
  private readonly compiled: CompiledRoute[];

  constructor(
    routes: readonly ApiRoute[],
    private readonly auth: GatewayAuth,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    this.compiled = routes.map(compile);
  }

  /** Method and path of every operation, for the OpenAPI check. */
  get routes(): { method: string; path: string; operationId: string }[] {
    return this.compiled.map(({ method, path, operationId }) => ({ method, path, operationId }));
  }

  /** Answers one request under /api/. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://gateway');
    const request: ApiRequest = { req, params: {}, url };
    let operation = 'unknown';
    let answer: ApiAnswer;

    try {
      const route = this.find(req.method ?? 'GET', url.pathname, request);
      operation = route.operationId;
      answer = await this.run(route, request);
    } catch (err) {
      answer = this.failure(err, operation);
    }

    send(res, answer);
    this.metrics.apiRequests.inc({ operation, status_class: statusClass(answer.status) });
    this.log.info('api request', {
      operation,
      namespace: request.params.namespace,
      name: request.params.name,
      caller: callerName(request.caller),
      status: answer.status,
      durationMs: Math.round(performance.now() - started),
    });
  }

  private find(method: string, path: string, request: ApiRequest): CompiledRoute {
    const matching = this.compiled.filter((route) => route.pattern.test(path));
    if (matching.length === 0) {
      throw new GatewayError(404, ErrorCode.ApiNotFound, `no API operation at ${path}`);
    }
    const route = matching.find((candidate) => candidate.method === method);
    if (!route) {
      const allow = matching.map((candidate) => candidate.method).join(', ');
      throw new GatewayError(
        405,
        ErrorCode.ApiMethodNotAllowed,
        `${method} is not an operation of ${path}; it takes ${allow}`,
        { allow },
      );
    }

    const values = route.pattern.exec(path)!.slice(1);
    route.names.forEach((name, i) => (request.params[name] = decode(values[i])));
    const namespace = request.params.namespace;
    if (namespace !== undefined && (namespace.length > 63 || !NAMESPACE.test(namespace))) {
      throw new GatewayError(
        400,
        ErrorCode.ApiRequestInvalid,
        `'${namespace}' is not a namespace name`,
      );
    }
    return route;
  }

  private async run(route: CompiledRoute, request: ApiRequest): Promise<ApiAnswer> {
    if (route.group !== 'public') {
      request.caller = await this.auth.authenticate(request.req, route.group);
      if (route.permission) {
        await this.auth.authorize(request.caller, request.params.namespace, route.permission);
      }
    }
    return route.handle(request);
  }

  private failure(err: unknown, operation: string): ApiAnswer {
    if (err instanceof GatewayError) {
      return problem(err.status, err.code, err.message, err.headers);
    }
    if (err instanceof KubeApiError) {
      // The gateway's own request was refused: a bad name (422) is the caller's to fix.
      if (err.status === 422) return problem(400, ErrorCode.ApiRequestInvalid, err.message);
      return problem(502, ErrorCode.KubeApiFailed, err.message);
    }
    if (err instanceof MtlsError && err.code.startsWith('VAULT_')) {
      return problem(503, err.code, err.message);
    }
    this.log.error('api operation failed unexpectedly', { operation, err });
    return problem(500, ErrorCode.ProxyInternal, 'the gateway failed on this request; see its log');
  }
}

/** The JSON answer of a refusal. */
export function problem(
  status: number,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): ApiAnswer {
  return { status, body: { code, message }, headers };
}

function send(res: ServerResponse, answer: ApiAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = answer.text;
  const content = text?.content ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
  const contentType = text?.contentType ?? 'application/json';
  res.writeHead(answer.status, {
    ...answer.headers,
    ...(content ? { 'content-type': contentType } : {}),
    'content-length': Buffer.byteLength(content),
  });
  res.end(content);
}

function compile(route: ApiRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const parameter = /^\{(\w+)\}$/.exec(segment);
      if (!parameter) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      names.push(parameter[1]);
      return '([^/]+)';
    })
    .join('/');
  return { ...route, pattern: new RegExp(`^${source}$`), names };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GatewayError(400, ErrorCode.ApiRequestInvalid, `'${segment}' is not percent-encoded`);
  }
}

function callerName(caller: Caller | undefined): string | undefined {
  if (!caller) return undefined;
  return caller.scheme === 'bearer' ? caller.user.username : `oauth:${caller.consumer.key}`;
}
