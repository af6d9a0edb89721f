import https from 'node:https';
import tls from 'node:tls';

import { OPERATOR_OPTIONS, type OperatorConfig } from '../../core/config/operator-config';
import { parseOptions } from '../../core/config/options';
import { CoreResources, collectionPath, objectPath } from '../../core/kube/api-paths';
import { KubeClient } from '../../core/kube/kube-client';
import { connectionFromKubeconfig } from '../../core/kube/kube-connection';
import { createLogger } from '../../core/log/logger';
import type { AdmissionReview } from '../../operator/webhook/admission-review';
import type { PkiTiming } from '../../operator/webhook/pki-plan';
import type { Container, Pod } from '../../operator/webhook/pod-spec';
import { startWebhook, type RunningWebhook } from '../../operator/webhook/start-webhook';
import { freePort } from '../fixtures/free-port';
import { readGroundEnv, uniqueName } from './ground';
import { only, renderChart } from './helm';

// What the webhook suites share: the webhook on a loopback port of the test run, the webhook
// configurations that make the real apiserver call it, and reads of what it wrote.

type Secret = { data?: Record<string, string> };
type WebhookConfiguration = { webhooks: { clientConfig: { caBundle?: string } }[] };
type ChartWebhook = {
  namespaceSelector: { matchExpressions: object[] };
  [field: string]: unknown;
};

/** A pod as the apiserver stored it. */
export type StoredPod = Pod & { metadata: { name: string } };

/** A webhook started by a test, the URL the apiserver calls and its configuration. */
export type LoopbackWebhook = { webhook: RunningWebhook; url: string; config: OperatorConfig };

const configs = CoreResources.mutatingWebhookConfigurations;
const pods = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };

/** One suite's objects on the ground: its operator namespace, webhooks and reads. */
export class WebhookGround {
  readonly client = new KubeClient(connectionFromKubeconfig(readGroundEnv().KUBECONFIG));
  readonly run: string;
  readonly operatorNamespace: string;
  private readonly log = createLogger('webhook', process.env.MTLS_TEST_LOG_LEVEL ?? 'warn');

  constructor(prefix: string) {
    this.run = uniqueName(prefix);
    this.operatorNamespace = `${this.run}-system`;
  }

  /** Creates the operator's namespace, where the webhook keeps its Secret. */
  async setUp(): Promise<void> {
    await this.createNamespace(this.operatorNamespace, {});
  }

  close(): void {
    this.client.close();
  }

  async createNamespace(name: string, labels: Record<string, string>): Promise<void> {
    const namespaces = collectionPath(CoreResources.namespaces);
    await this.client.create(namespaces, { metadata: { name, labels } });
  }

  /** A webhook on a free loopback port, with the test's options and a fast certificate check. */
  async webhookOnLoopback(
    options: Partial<OperatorConfig>,
    timing?: Partial<PkiTiming> & { checkIntervalMs?: number },
  ): Promise<LoopbackWebhook> {
    const port = await freePort();
    const url = `https://127.0.0.1:${port}/mutate-pods`;
    const config: OperatorConfig = {
      ...parseOptions(OPERATOR_OPTIONS, [], { VAULT_ADDR: readGroundEnv().VAULT_ADDR }),
      webhook: 'on',
      webhookPort: port,
      webhookUrl: url,
      operatorNamespace: this.operatorNamespace,
      ...options,
    };
    const webhook = await startWebhook({
      client: this.client,
      config,
      log: this.log,
      timing: { checkIntervalMs: 200, ...timing },
    });
    return { webhook, url, config };
  }

  /**
   * The chart's own webhook configuration, as `helm template` renders it for this suite's
   * operator namespace, pointed at `url` and narrowed to the namespaces labelled
   * `mtls-webhook-test: <group>`: the apiserver applies the chart's selectors and policies.
   */
  async createWebhookConfiguration(name: string, url: string, group: string): Promise<void> {
    const chart = only(
      renderChart({ namespace: this.operatorNamespace }),
      'MutatingWebhookConfiguration',
    );
    // The chart's Service is replaced by the test's URL; the rest is the chart's.
    const webhooks = (chart.webhooks as ChartWebhook[]).map((webhook) => ({
      ...webhook,
      clientConfig: { url },
      namespaceSelector: {
        matchExpressions: [
          ...webhook.namespaceSelector.matchExpressions,
          { key: 'mtls-webhook-test', operator: 'In', values: [group] },
        ],
      },
    }));
    await this.client.create(collectionPath(configs), {
      apiVersion: chart.apiVersion,
      kind: chart.kind,
      metadata: { name },
      webhooks,
    });
  }

  async deleteWebhookConfiguration(name: string): Promise<void> {
    await this.client.delete(objectPath(configs, undefined, name));
  }

  /** The PEM of the configuration's caBundle, or undefined while it has none. */
  async caBundleOf(name: string): Promise<string | undefined> {
    const path = objectPath(configs, undefined, name);
    const config = await this.client.get<WebhookConfiguration>(path);
    const bundle = config?.webhooks[0].clientConfig.caBundle;
    return bundle ? Buffer.from(bundle, 'base64').toString() : undefined;
  }

  /** The decoded data of a Secret of the operator's namespace. */
  async secretData(name: string): Promise<Record<string, string> | undefined> {
    const path = objectPath(CoreResources.secrets, this.operatorNamespace, name);
    const secret = await this.client.get<Secret>(path);
    if (!secret?.data) return undefined;
    const entries = Object.entries(secret.data);
    return Object.fromEntries(
      entries.map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
    );
  }

  async deleteSecret(name: string): Promise<void> {
    await this.client.delete(objectPath(CoreResources.secrets, this.operatorNamespace, name));
  }

  createPod(namespace: string, pod: Pod): Promise<StoredPod> {
    return this.client.create<StoredPod>(collectionPath(pods, namespace), pod);
  }

  getPod(namespace: string, name: string): Promise<StoredPod | undefined> {
    return this.client.get<StoredPod>(objectPath(pods, namespace, name));
  }
}

/** A pod with one application container, as a user would write it. */
export function podBody(
  metadata: Pod['metadata'],
  extra: Partial<NonNullable<Pod['spec']>> = {},
): Pod {
  // A cluster's ServiceAccount admission names the account before webhooks run; the ground has
  // that plugin off, and a projected token is refused without an account.
  const containers = [{ name: 'app', image: 'registry.example/shop:1' }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: { serviceAccountName: 'default', containers, ...extra },
  };
}

/** The container of that name, or a failure that lists the names there are. */
export function container(list: Container[] | undefined, name: string): Container {
  const found = list?.find((entry) => entry.name === name);
  if (!found) {
    throw new Error(`no container ${name} in ${JSON.stringify(list?.map((c) => c.name))}`);
  }
  return found;
}

/** The value after a flag in a container's command. */
export function flag(entry: Container, name: string): string {
  const command = entry.command as string[];
  return command[command.indexOf(name) + 1];
}

/** An AdmissionReview of a pod being created. */
export function podReview(uid: string, namespace: string, pod: Pod): object {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace,
      operation: 'CREATE',
      object: pod,
    },
  };
}

/** Sends an AdmissionReview to the webhook as the apiserver would, and returns its answer. */
export function postReview(url: string, ca: string, review: object): Promise<AdmissionReview> {
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method: 'POST', ca }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve(JSON.parse(text) as AdmissionReview));
    });
    request.on('error', reject);
    request.end(JSON.stringify(review));
  });
}

/** The serial number of the certificate a TLS server on the loopback address presents. */
export function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}
