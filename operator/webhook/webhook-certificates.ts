import { ErrorCode, MtlsError } from '../../core/errors/codes';
import { CoreResources, collectionPath, objectPath } from '../../core/kube/api-paths';
import {
  isConflict,
  isNotFound,
  KubeApiError,
  PatchType,
  type KubeClient,
} from '../../core/kube/kube-client';
import type { Logger } from '../../core/log/logger';
import type { PatchOperation } from './json-patch';
import { planPki, type PkiTiming, type WebhookPki } from './pki-plan';
import { caBundlePem, pkiFromSecret, pkiSecretData, samePem, type PkiSecret } from './pki-secret';
import { splitPem, type ServingNames } from './webhook-pki';

/** A MutatingWebhookConfiguration, as far as the caBundle goes. */
type WebhookConfiguration = {
  metadata: { name: string };
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
};

/** Where the certificates live and what they are for. */
export type WebhookCertificatesOptions = {
  client: KubeClient;
  namespace: string;
  secretName: string;
  webhookConfigName: string;
  names: ServingNames;
  timing: PkiTiming;
  log: Logger;
  /** Called with the certificates whenever the serving pair changed. */
  onServing: (pki: WebhookPki) => void;
  now?: () => Date;
};

// Writes that lose a race read the winner's Secret and try again, a few times in a row.
const MAX_ATTEMPTS = 4;

/**
 * Keeps the webhook's CA and serving certificate in one Secret that every replica shares, and
 * the CA bundle in every webhook of the configuration. Each pass reads the Secret, creates or
 * renews what is due (a conditional write: one replica wins, the others adopt its result),
 * reports a changed serving pair, and patches the caBundle where it differs.
 */
export class WebhookCertificates {
  private pki: WebhookPki | undefined;
  private servedCertPem: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(private readonly options: WebhookCertificatesOptions) {}

  private get secretPath(): string {
    return objectPath(CoreResources.secrets, this.options.namespace, this.options.secretName);
  }

  private get configPath(): string {
    const resource = CoreResources.mutatingWebhookConfigurations;
    return objectPath(resource, undefined, this.options.webhookConfigName);
  }

  /** One pass; returns the certificates in force. API failures throw. */
  async sync(): Promise<WebhookPki> {
    for (let attempt = 1; ; attempt++) {
      const pki = await this.syncOnce();
      if (pki) return pki;
      if (attempt >= MAX_ATTEMPTS) {
        const secret = `${this.options.namespace}/${this.options.secretName}`;
        throw new MtlsError(ErrorCode.KubeApiFailed, `the Secret ${secret} kept changing under us`);
      }
    }
  }

  /** Runs a pass every interval until stopped; a failed pass is logged and tried again. */
  start(intervalMs: number): void {
    const tick = () => {
      this.running = this.sync()
        .catch((err: unknown) => this.options.log.warn('webhook certificate check failed', { err }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, intervalMs);
  }

  /** Stops the passes and waits for one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async syncOnce(): Promise<WebhookPki | undefined> {
    const { client, log, names, timing } = this.options;
    const secret = await client.get<PkiSecret>(this.secretPath);
    const stored = pkiFromSecret(secret);
    // A Secret deleted or emptied is written again from memory: the trusted CA stays the same.
    const current = stored ?? this.pki;
    const config = await client.get<WebhookConfiguration>(this.configPath);

    const now = this.options.now?.() ?? new Date();
    const isTrusted = (caPem: string) => trusts(config, caPem);
    const change = await planPki({ current, names, now, timing, isTrusted });
    const pki = change?.pki ?? current!;
    if (change || !stored) {
      try {
        await this.write(secret, pki);
      } catch (err) {
        if (isConflict(err)) return undefined;
        throw err;
      }
      const reasons = change?.reasons ?? ['restored the Secret from memory'];
      log.info('webhook certificates written', { name: this.options.secretName, reasons });
    }

    this.adopt(pki);
    await this.patchCaBundle(config, pki);
    return pki;
  }

  private async write(secret: PkiSecret | undefined, pki: WebhookPki): Promise<void> {
    const data = pkiSecretData(pki);
    const { client, namespace, secretName } = this.options;
    if (secret) {
      // The resourceVersion read makes the write conditional: of two replicas, one wins.
      await client.replace(this.secretPath, { ...secret, data });
      return;
    }
    await client.create(collectionPath(CoreResources.secrets, namespace), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: secretName,
        namespace,
        labels: { 'app.kubernetes.io/managed-by': 'mtls-operator' },
      },
      type: 'kubernetes.io/tls',
      data,
    });
  }

  private adopt(pki: WebhookPki): void {
    this.pki = pki;
    if (pki.servingCertPem === this.servedCertPem) return;
    this.servedCertPem = pki.servingCertPem;
    this.options.onServing(pki);
  }

  private async patchCaBundle(
    config: WebhookConfiguration | undefined,
    pki: WebhookPki,
  ): Promise<void> {
    if (!config) return;
    const caBundle = Buffer.from(caBundlePem(pki)).toString('base64');
    const patch: PatchOperation[] = [];
    (config.webhooks ?? []).forEach((webhook, i) => {
      if (webhook.clientConfig?.caBundle === caBundle) return;
      // The test keeps a concurrent reordering of the list from patching the wrong webhook.
      patch.push({ op: 'test', path: `/webhooks/${i}/name`, value: webhook.name });
      patch.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle });
    });
    if (patch.length === 0) return;

    try {
      await this.options.client.patch(this.configPath, patch, PatchType.json);
    } catch (err) {
      // Deleted or changed since it was read: the next pass sees the new configuration.
      if (isNotFound(err) || (err instanceof KubeApiError && err.status === 422)) return;
      throw err;
    }
    this.options.log.info('webhook caBundle patched', {
      name: this.options.webhookConfigName,
      cas: pki.caCertsPem.length,
    });
  }
}

// True when every webhook of the configuration trusts the CA; with none, nothing waits for it.
function trusts(config: WebhookConfiguration | undefined, caPem: string): boolean {
  return (config?.webhooks ?? []).every((webhook) => {
    const bundle = Buffer.from(webhook.clientConfig?.caBundle ?? '', 'base64').toString('utf8');
    return splitPem(bundle).some((block) => samePem(block, caPem));
  });
}
