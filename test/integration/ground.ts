import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import * as k8s from '@kubernetes/client-node';

import { KubeClient } from '../../core/kube/kube-client';
import { connectionFromKubeconfig } from '../../core/kube/kube-connection';

/** The folder where the integration run keeps its own control plane, apart from `.cluster`. */
export const GROUND_DIR = path.resolve(__dirname, '../../.testground');
const SCRIPTS = path.resolve(__dirname, '../ground');

/** What cluster-up.sh wrote to the ground's env file. */
export type GroundEnv = {
  KUBECONFIG: string;
  KUBE_API_URL: string;
  ETCD_URL: string;
  VAULT_ADDR: string;
  VAULT_TOKEN: string;
  MTLS_CLUSTER_DIR: string;
};

/** Starts the control plane (or finds it running) and returns its addresses. */
export function startGround(): GroundEnv {
  execFileSync(path.join(SCRIPTS, 'cluster-up.sh'), [GROUND_DIR], { stdio: 'inherit' });
  return readGroundEnv();
}

/** Stops every process of the control plane. */
export function stopGround(): void {
  execFileSync(path.join(SCRIPTS, 'cluster-down.sh'), [GROUND_DIR], { stdio: 'inherit' });
}

/** Reads the env file of a running ground. */
export function readGroundEnv(): GroundEnv {
  const text = readFileSync(path.join(GROUND_DIR, 'env'), 'utf8');
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/^export (\w+)='([^']*)'$/gm)) env[match[1]] = match[2];
  return env as GroundEnv;
}

/** A KubeConfig for the ground's admin user. */
export function adminKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(readGroundEnv().KUBECONFIG);
  return kc;
}

/** The project's own API client, as the ground's admin user; close it when done. */
export function adminKubeClient(): KubeClient {
  return new KubeClient(connectionFromKubeconfig(readGroundEnv().KUBECONFIG));
}

/** Runs the ground's kubectl as admin and returns what it printed. */
export function kubectl(...args: string[]): string {
  const env = readGroundEnv();
  return execFileSync(path.join(env.MTLS_CLUSTER_DIR, 'bin/kubectl'), args, {
    env: { ...process.env, KUBECONFIG: env.KUBECONFIG },
    encoding: 'utf8',
  });
}

/** A name unique to this run, for namespaces and other objects tests create. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}
