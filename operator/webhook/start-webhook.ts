import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Registry } from 'prom-client';

import type { OperatorConfig } from '../../core/config/operator-config';
import type { KubeClient } from '../../core/kube/kube-client';
import type { Logger } from '../../core/log/logger';
import { AdmissionServer, MUTATE_PODS_PATH } from './admission-server';
import { loadInjectionConfig } from './injection-config';
import { NamespaceLabels } from './namespace-labels';
import { DEFAULT_PKI_TIMING, type PkiTiming, type WebhookPki } from './pki-plan';
import { admitPod } from './pod-admission';
import { WebhookCertificates } from './webhook-certificates';
import { WebhookMetrics } from './webhook-metrics';
import { servingNames } from './webhook-pki';

/** What the webhook runs on. */
export type WebhookEnvironment = {
  client: KubeClient;
  config: OperatorConfig;
  log: Logger;
  /** The operator's registry, for the webhook's metrics. */
  registry?: Registry;
  /** Certificate lifetimes and how often the Secret is read; tests shorten them. */
  timing?: Partial<PkiTiming> & { checkIntervalMs?: number };
};

/** A started webhook. */
export type RunningWebhook = {
  port: number;
  /** Whether AdmissionReviews are served: the operator's readiness, when the webhook is on. */
  listening: () => boolean;
  stop: () => Promise<void>;
};

// Every replica reads the shared Secret this often, so it serves what another replica renewed.
const CHECK_INTERVAL_MS = 10_000;
const FIRST_SYNC_ATTEMPTS = 5;

/**
 * Starts the injection webhook: reads the injection config, makes sure the certificates exist
 * in the shared Secret and the caBundle in the webhook configuration, serves AdmissionReviews
 * over HTTPS at /mutate-pods, and keeps the certificates renewed while it runs.
 */
export async function startWebhook(environment: WebhookEnvironment): Promise<RunningWebhook> {
  const { client, config, log, registry } = environment;
  const injection = loadInjectionConfig(config.injectionConfig);
  const timing = { ...DEFAULT_PKI_TIMING, ...environment.timing };
  const metrics = registry ? new WebhookMetrics(registry) : undefined;
  const namespaces = new NamespaceLabels(client);

  // The first certificates arrive before the server exists; later ones are swapped into it.
  const serving: { server?: AdmissionServer } = {};
  const serve = (pki: WebhookPki) => {
    const identity = { keyPem: pki.servingKeyPem, certPem: pki.servingCertPem };
    serving.server?.setIdentity(identity);
    const cert = new X509Certificate(pki.servingCertPem);
    metrics?.setCertificateExpiry(new Date(cert.validTo));
    log.info('webhook serving certificate loaded', {
      serial: cert.serialNumber,
      notAfter: cert.validTo,
    });
  };
  const certificates = new WebhookCertificates({
    client,
    namespace: config.operatorNamespace,
    secretName: config.webhookSecretName,
    webhookConfigName: config.webhookConfigName,
    names: servingNames(config.webhookServiceName, config.operatorNamespace, config.webhookUrl),
    timing,
    log,
    onServing: serve,
  });
  const pki = await firstSync(certificates, log);

  const server = new AdmissionServer({
    identity: { keyPem: pki.servingKeyPem, certPem: pki.servingCertPem },
    admit: (request) =>
      admitPod(request, {
        config: injection,
        namespaceLabels: (namespace) => namespaces.get(namespace),
        log,
      }),
    log,
    onAnswered: (result) => metrics?.countAdmission(result),
  });
  serving.server = server;
  const port = await server.listen(config.webhookPort, listenHost(config.webhookUrl));
  certificates.start(environment.timing?.checkIntervalMs ?? CHECK_INTERVAL_MS);
  log.info('webhook started', { port, path: MUTATE_PODS_PATH, egress: injection.egress.mode });

  return {
    port,
    listening: () => server.listening,
    stop: async () => {
      await certificates.stop();
      await server.close();
    },
  };
}

// The certificates must exist before the server can start; a short apiserver outage is waited out.
async function firstSync(certificates: WebhookCertificates, log: Logger): Promise<WebhookPki> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await certificates.sync();
    } catch (err) {
      if (attempt >= FIRST_SYNC_ATTEMPTS) throw err;
      log.warn('webhook certificate check failed', { err, attempt });
      await sleep(500 * 2 ** attempt);
    }
  }
}

// A URL on a loopback address means a run on a host: listen there only, not on every address.
function listenHost(url: string): string | undefined {
  if (!url) return undefined;
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  const loopback = host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  return loopback ? host : undefined;
}
