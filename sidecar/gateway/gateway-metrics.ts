import { Counter, type Registry } from 'prom-client';

/** The gateway's metrics besides the proxy's, on the same registry. */
export class GatewayMetrics {
  readonly apiRequests: Counter<'operation' | 'status_class'>;

  readonly forwardingRefused: Counter<'code'>;

  constructor(registry: Registry) {
    this.apiRequests = new Counter({
      name: 'mtls_gateway_api_requests_total',
      help: 'API requests the gateway answered, by operation and status class',
      labelNames: ['operation', 'status_class'] as const,
      registers: [registry],
    });
    this.forwardingRefused = new Counter({
      name: 'mtls_gateway_forwarding_refused_total',
      help: 'Forwarding requests refused before reaching the proxy, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    });
  }
}
