import { Counter, Gauge, type Registry } from 'prom-client';

/** How an admission request ended; the only values of the `result` label. */
export type AdmissionResult = 'injected' | 'skipped' | 'rejected' | 'error';

/** The webhook's metrics: admissions by result, and when the serving certificate expires. */
export class WebhookMetrics {
  private readonly admissions: Counter<'result'>;
  private readonly expiry: Gauge;

  constructor(registry: Registry) {
    this.admissions = new Counter({
      name: 'mtls_operator_webhook_admissions_total',
      help: 'Pod admission requests answered, by result (injected, skipped, rejected, error).',
      labelNames: ['result'],
      registers: [registry],
    });
    this.expiry = new Gauge({
      name: 'mtls_operator_webhook_certificate_expiry_timestamp_seconds',
      help: "notAfter of the webhook's serving certificate, in seconds since the epoch.",
      registers: [registry],
    });
  }

  /** Counts one answered admission request. */
  countAdmission(result: AdmissionResult): void {
    this.admissions.inc({ result });
  }

  /** Records the notAfter of the certificate being served. */
  setCertificateExpiry(notAfter: Date): void {
    this.expiry.set(notAfter.getTime() / 1000);
  }
}
