import type { IncomingMessage, ServerResponse } from 'node:http';

import { ErrorCode } from '../../../core/errors/codes';
import type { Logger } from '../../../core/log/logger';
import { LP_HEADERS } from '../../proxy/header-policy';
import { sendProblem } from '../../proxy/proxy-replies';
import { MAX_BODY_BYTES, readBodyBytes } from '../api/request-body';
import type { Permission } from '../auth/access-reviewer';
import { signsFormBody, type Caller, type GatewayAuth } from '../auth/gateway-auth';
import { GatewayError } from '../gateway-error';
import type { GatewayMetrics } from '../gateway-metrics';
import type { NamespaceLanes } from './namespace-lanes';

/** The right a caller needs in a namespace to have calls made with its certificates. */
export const FORWARDING_PERMISSION: Permission = { verb: 'use', resource: 'mtlscertificates' };

/** The forwarding method's operations as documented; any other method is passed on too. */
export const FORWARDING_ROUTES = ['Get', 'Post', 'Put', 'Patch', 'Delete'].map((method) => ({
  method: method.toUpperCase(),
  path: '/mtls/account/{namespace}',
  operationId: `forward${method}`,
}));

const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * The forwarding method in gateway mode: authenticate the caller, check that RBAC lets it use
 * the namespace's certificates, drop its credentials, and hand the request to the lane of the
 * namespace and service, which then proxies it exactly as a sidecar does.
 */
export class ForwardingHandler {
  constructor(
    private readonly auth: GatewayAuth,
    private readonly lanes: NamespaceLanes,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Serves one `/mtls/account/<namespace>` request. */
  async handle(req: IncomingMessage, res: ServerResponse, namespace: string): Promise<void> {
    try {
      const service = serviceOf(req);
      const { caller, body } = await this.authenticate(req);
      await this.auth.authorize(caller, namespace, FORWARDING_PERMISSION);

      // The gateway's credentials are for the gateway: the upstream gets LP-authorization-override.
      dropAuthorization(req);
      const lane = await this.lanes.laneFor(namespace, service);
      lane.handle(req, res, body);
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      this.metrics.forwardingRefused.inc({ code: err.code });
      this.log.info('forwarding refused', { namespace, status: err.status, code: err.code });
      sendProblem(res, { status: err.status, code: err.code, message: err.message }, err.headers);
    }
  }

  /**
   * Authenticates the caller. A form body signed with OAuth 1.0 is read whole first, because the
   * signature covers its parameters; it then goes upstream from memory. Any other body streams.
   */
  private async authenticate(req: IncomingMessage): Promise<{ caller: Caller; body?: Buffer }> {
    if (!signsFormBody(req)) return { caller: await this.auth.authenticate(req, 'forward') };

    const hint = 'a form body signed with OAuth 1.0 is read whole to check its signature';
    const body = await readBodyBytes(req, MAX_BODY_BYTES, hint);
    const form = new URLSearchParams(body.toString('utf8'));
    return { caller: await this.auth.authenticate(req, 'forward', form), body };
  }
}

function serviceOf(req: IncomingMessage): string {
  const value = req.headers[LP_HEADERS.serviceName];
  const service = Array.isArray(value) ? value.join(',') : (value ?? '');
  if (!LABEL_VALUE.test(service)) {
    throw new GatewayError(
      400,
      ErrorCode.ProxyRequestInvalid,
      'LP-service-name must be a label value: up to 63 letters, digits, -, _ and .',
    );
  }
  return service;
}

function dropAuthorization(req: IncomingMessage): void {
  delete req.headers.authorization;
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (raw[i].toLowerCase() === 'authorization') raw.splice(i, 2);
  }
}
