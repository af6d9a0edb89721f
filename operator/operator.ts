import { readFile } from 'node:fs/promises';

import { collectDefaultMetrics, Registry } from 'prom-client';

import type { OperatorConfig } from '../core/config/operator-config';
import type { KubeClient } from '../core/kube/kube-client';
import type { Logger } from '../core/log/logger';
import { VaultKv, type VaultAuth } from '../core/vault/kv-client';
import { reconcileCertificate } from './certificates/reconcile-certificate';
import { reconcileNamespace } from './mappings/reconcile-namespace';
import { OperatorMetrics } from './operator-metrics';
import { RESOURCES } from '../core/resources/api-resources';
import { Cluster } from './resources/cluster';
import type { MtlsCertificate, MtlsMapping } from '../core/resources/types';
import { Controller, generationChanged } from './runtime/controller';
import { ControllerMetrics } from './runtime/controller-metrics';
import { LeaderElector } from './runtime/leader-elector';
import type { InformedObject } from './runtime/object-key';
import { ProbeServer } from './runtime/probe-server';
import { ResilientInformer } from './runtime/resilient-informer';
import { registerVaultUpGauge } from './vault-up-gauge';
import { startWebhook, type RunningWebhook } from './webhook/start-webhook';

/** What the operator runs on. */
export type OperatorEnvironment = {
  config: OperatorConfig;
  /** The apiserver connection; the operator closes it when it stops. */
  client: KubeClient;
  log: Logger;
  now?: () => Date;
};

/** A started operator. */
export type RunningOperator = {
  /** The port of /metrics, /healthz and /readyz. */
  probePort: number;
  isLeader: () => boolean;
  /** Resolves when the operator stopped, by `stop` or because it lost the lease. */
  stopped: Promise<void>;
  /** Stops reconciling and releases the lease (unless `release` is false, as in a crash). */
  stop: (options?: { release?: boolean }) => Promise<void>;
};

/**
 * Starts the operator: informers on MtlsCertificates, MtlsMappings and Secrets; a certificate
 * controller and a namespace controller that runs only while this replica leads; the probe
 * server, which every replica serves.
 */
export async function startOperator(environment: OperatorEnvironment): Promise<RunningOperator> {
  const { config, client, log } = environment;
  const now = environment.now ?? (() => new Date());
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new OperatorMetrics(registry);
  const controllerMetrics = new ControllerMetrics(registry);

  const vault = new VaultKv({
    address: config.vaultAddress,
    mount: config.vaultMount,
    auth: vaultAuth(config),
    timeoutMs: config.vaultTimeoutMs,
    observe: (operation, seconds, code) => metrics.observeVault(operation, seconds, code),
  });
  const cluster = new Cluster(client);

  const informer = <T extends InformedObject>(
    resource: (typeof RESOURCES)[keyof typeof RESOURCES],
  ) => new ResilientInformer<T>({ client, resource, logger: log });
  const certificates = informer<MtlsCertificate>(RESOURCES.certificates);
  const mappings = informer<MtlsMapping>(RESOURCES.mappings);
  // Which Secret changed is all the controller needs; the reconcile reads its content afresh,
  // so the apiserver sends metadata only, and the cache stays small however many Secrets exist.
  const secrets = new ResilientInformer<InformedObject>({
    client,
    resource: RESOURCES.secrets,
    metadataOnly: true,
    logger: log,
    transform: ({ metadata }) => ({
      metadata: {
        name: metadata?.name,
        namespace: metadata?.namespace,
        uid: metadata?.uid,
        resourceVersion: metadata?.resourceVersion,
      },
    }),
  });

  const certificateController = new Controller({
    kind: 'MtlsCertificate',
    informer: certificates,
    // The operator's own status and finalizer writes are not worth another look at the object.
    updateFilter: (object, previous) =>
      generationChanged(object, previous) ||
      object.metadata?.deletionTimestamp !== previous.metadata?.deletionTimestamp,
    // A changed Secret re-syncs the certificates whose source it is.
    watches: [{ informer: secrets, toKeys: (secret) => certificatesUsing(certificates, secret) }],
    reconcile: (_key, _id, context) =>
      reconcileCertificate(
        {
          cluster,
          vault,
          vaultMount: config.vaultMount,
          log: context.log,
          now,
          adoptedRecheckMs: config.adoptedRecheckMs,
          onExpiry: (namespace, name, notAfter) => metrics.setExpiry(namespace, name, notAfter),
        },
        context.namespace,
        context.name,
      ),
    logger: log,
    metrics: controllerMetrics,
    workers: config.workers,
    resyncMs: config.resyncMs,
  });
  const namespaceController = new Controller({
    kind: 'MtlsMapping',
    informer: mappings,
    keyOf: (mapping) => `${mapping.metadata!.namespace}/`,
    updateFilter: generationChanged,
    // A certificate's status decides whether the mappings that use it are Ready.
    watches: [{ informer: certificates, toKeys: (c) => [`${c.metadata!.namespace}/`] }],
    reconcile: (_key, _id, context) =>
      reconcileNamespace(
        {
          cluster,
          vault,
          vaultMount: config.vaultMount,
          log: context.log,
          now,
          liveValidationTimeoutMs: config.liveValidationTimeoutMs,
          listMappings: (namespace) => mappings.list(namespace),
          listCertificates: (namespace) => certificates.list(namespace),
        },
        context.namespace,
      ),
    logger: log,
    metrics: controllerMetrics,
    workers: config.workers,
    resyncMs: config.resyncMs,
    // A namespace with certificates and no mapping left may still hold an index to empty.
    resyncKeys: () =>
      [...mappings.list(), ...certificates.list()].map((o) => `${o.metadata!.namespace}/`),
  });
  const controllers = [certificateController, namespaceController];

  const isLeader = () => elector?.isLeader() ?? true;
  registerVaultUpGauge(registry, () => vault.ping());
  let webhook: RunningWebhook | undefined;
  // Ready means able to serve admission: the webhook's Service sends it to Ready replicas only,
  // and the webhook never calls Vault, so a Vault outage must not hold pod creation back.
  const probes = new ProbeServer({
    port: config.probePort,
    registry,
    logger: log,
    readiness: {
      // A replica that does not lead runs no informers, and is ready to serve probes alone.
      informers: () => !isLeader() || [certificates, mappings, secrets].every((i) => i.hasSynced()),
      ...(config.webhook === 'on' ? { webhook: () => webhook?.listening() ?? false } : {}),
    },
  });
  const probePort = await probes.start();
  // Every replica serves the injection webhook, leader or not.
  if (config.webhook === 'on') webhook = await startWebhook({ client, config, log, registry });

  let finish: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (finish = resolve));
  let stopping: Promise<void> | undefined;
  const stopControllers = () => Promise.all(controllers.map((c) => c.stop()));

  const elector =
    config.leaderElection === 'on'
      ? new LeaderElector({
          client,
          namespace: config.leaseNamespace,
          name: config.leaseName,
          identity: config.identity,
          leaseDurationSeconds: Math.max(1, Math.round(config.leaseDurationMs / 1000)),
          renewDeadlineMs: Math.round(config.leaseDurationMs * (2 / 3)),
          retryPeriodMs: Math.max(200, Math.round(config.leaseDurationMs / 7.5)),
          logger: log,
          onStartedLeading: () => controllers.forEach((c) => void c.start()),
          // A replica that lost the lease stops at once: it may no longer write.
          onStoppedLeading: () => void stop({ release: false }),
        })
      : undefined;

  const stop = (options: { release?: boolean } = {}): Promise<void> => {
    stopping ??= (async () => {
      // Reconciles finish before the lease is released, so two leaders never write at once.
      await stopControllers();
      await elector?.stop(options);
      await webhook?.stop();
      await probes.close();
      client.close();
      log.info('operator stopped');
      finish();
    })();
    return stopping;
  };

  if (elector) elector.start();
  else controllers.forEach((c) => void c.start());
  log.info('operator started', { probePort, leaderElection: config.leaderElection });

  return { probePort, isLeader, stopped, stop };
}

function vaultAuth(config: OperatorConfig): VaultAuth {
  if (config.vaultToken) return { kind: 'token', token: config.vaultToken };
  return {
    kind: 'kubernetes',
    role: config.vaultRole,
    authMount: config.vaultAuthMount,
    readJwt: async () => (await readFile(config.tokenFile, 'utf8')).trim(),
  };
}

function certificatesUsing(
  certificates: ResilientInformer<MtlsCertificate>,
  secret: InformedObject,
): string[] {
  const { namespace, name } = secret.metadata ?? {};
  return certificates
    .list(namespace)
    .filter((c) => [c.spec.source.pkcs12?.secretName, c.spec.source.pem?.secretName].includes(name))
    .map((c) => `${namespace}/${c.metadata.name}`);
}
