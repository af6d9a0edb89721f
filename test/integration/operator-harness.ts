import path from 'node:path';

import * as k8s from '@kubernetes/client-node';
import vault from 'node-vault';

import { OPERATOR_OPTIONS, type OperatorConfig } from '../../core/config/operator-config';
import { parseOptions } from '../../core/config/options';
import { createLogger } from '../../core/log/logger';
import { startOperator, type RunningOperator } from '../../operator/operator';
import type { MtlsCertificate, MtlsMapping } from '../../core/resources/types';
import { eventualValue } from './eventually';
import { adminKubeClient, adminKubeConfig, kubectl, readGroundEnv } from './ground';

/** The CRDs are applied once per run, by the first suite that needs them. */
export function applyCrds(): void {
  kubectl('apply', '-f', path.resolve(__dirname, '../../crds'));
  kubectl('wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s');

  // Established comes before the apiserver serves the new types: until their storage is ready a
  // list is answered 429 "storage is (re)initializing", which a suite running first would see.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      kubectl('get', 'mtlscertificates,mtlsmappings', '--all-namespaces');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
}

/** Starts an operator in this process against the ground, with options for the test. */
export async function runOperator(options: Partial<OperatorConfig> = {}): Promise<RunningOperator> {
  const env = readGroundEnv();
  const config = {
    ...parseOptions(OPERATOR_OPTIONS, [], { VAULT_ADDR: env.VAULT_ADDR }),
    vaultToken: env.VAULT_TOKEN,
    probePort: 0,
    leaderElection: 'off' as const,
    ...options,
  };
  return startOperator({
    config,
    client: adminKubeClient(),
    log: createLogger('operator', process.env.MTLS_TEST_LOG_LEVEL ?? 'warn'),
  });
}

/** What a Prometheus scrape of the operator's probe port returns, as text. */
export async function scrapeMetrics(probePort: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${probePort}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered HTTP ${response.status}`);
  return response.text();
}

/** An admin Vault client for the ground's OpenBao. */
export function adminVault(address = readGroundEnv().VAULT_ADDR, token?: string) {
  return vault({ endpoint: address, token: token ?? readGroundEnv().VAULT_TOKEN });
}

/** Reads the latest data of a KV v2 secret under `secret/`, or undefined when there is none. */
export async function readKv<T = Record<string, unknown>>(
  path: string,
  address?: string,
  token?: string,
) {
  try {
    const body = await adminVault(address, token).read(`secret/data/${path}`);
    return { data: body.data.data as T, version: body.data.metadata.version as number };
  } catch (err) {
    if ((err as { response?: { statusCode?: number } }).response?.statusCode === 404)
      return undefined;
    throw err;
  }
}

/** Typed access to the custom resources for tests. */
export class Resources {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;

  constructor(readonly namespace: string) {
    const kc = adminKubeConfig();
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async createNamespace(): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name: this.namespace } } });
  }

  async putSecret(name: string, data: Record<string, Buffer | string>, type = 'Opaque') {
    const encoded = Object.fromEntries(
      Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    );
    const body = { metadata: { name, namespace: this.namespace }, type, data: encoded };
    try {
      await this.core.replaceNamespacedSecret({ name, namespace: this.namespace, body });
    } catch {
      await this.core.createNamespacedSecret({ namespace: this.namespace, body });
    }
  }

  async deleteSecret(name: string): Promise<void> {
    await this.core.deleteNamespacedSecret({ name, namespace: this.namespace });
  }

  async putConfigMap(name: string, data: Record<string, string>): Promise<void> {
    const body = { metadata: { name, namespace: this.namespace }, data };
    await this.core.createNamespacedConfigMap({ namespace: this.namespace, body });
  }

  async createCertificate(name: string, spec: MtlsCertificate['spec']): Promise<void> {
    await this.create('mtlscertificates', 'MtlsCertificate', name, spec);
  }

  async createMapping(name: string, spec: MtlsMapping['spec']): Promise<void> {
    await this.create('mtlsmappings', 'MtlsMapping', name, spec);
  }

  async certificate(name: string): Promise<MtlsCertificate | undefined> {
    return this.get('mtlscertificates', name) as Promise<MtlsCertificate | undefined>;
  }

  async mapping(name: string): Promise<MtlsMapping | undefined> {
    return this.get('mtlsmappings', name) as Promise<MtlsMapping | undefined>;
  }

  /** Adds labels to an object, as another client editing it would. */
  async label(plural: 'mtlscertificates' | 'mtlsmappings', name: string, labels: object) {
    await this.custom.patchNamespacedCustomObject(
      { ...this.at(plural), name, body: { metadata: { labels } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  /** Merges fields into an object's spec, as a user editing it would. */
  async patchSpec(plural: 'mtlscertificates' | 'mtlsmappings', name: string, spec: object) {
    await this.custom.patchNamespacedCustomObject(
      { ...this.at(plural), name, body: { spec } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  /** The Events recorded on an object of the namespace. */
  async events(name: string): Promise<k8s.CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({
      namespace: this.namespace,
      fieldSelector: `involvedObject.name=${name}`,
    });
    return list.items;
  }

  async delete(plural: 'mtlscertificates' | 'mtlsmappings', name: string): Promise<void> {
    await this.custom.deleteNamespacedCustomObject({ ...this.at(plural), name });
  }

  /** Waits until the object's Ready condition has the reason given, and returns the object. */
  async waitForReason(kind: 'certificate' | 'mapping', name: string, reason: string) {
    return eventualValue(async () => {
      const object =
        kind === 'certificate' ? await this.certificate(name) : await this.mapping(name);
      const ready = object?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.reason === reason ? object : undefined;
    }, `${kind} ${name} to be ${reason}`);
  }

  private async create(plural: string, kind: string, name: string, spec: object): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      ...this.at(plural),
      body: { apiVersion: 'mtls.io/v1alpha1', kind, metadata: { name }, spec },
    });
  }

  private async get(plural: string, name: string): Promise<unknown> {
    try {
      return await this.custom.getNamespacedCustomObject({ ...this.at(plural), name });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  private at(plural: string) {
    return { group: 'mtls.io', version: 'v1alpha1', namespace: this.namespace, plural };
  }
}
