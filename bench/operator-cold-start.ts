import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { CoreResources, collectionPath } from '../core/kube/api-paths';
import { KubeClient } from '../core/kube/kube-client';
import { connectionFromKubeconfig } from '../core/kube/kube-connection';
import { RESOURCES } from '../core/resources/api-resources';

import { interpreterFlags } from './peers';

// Cold start of the operator: 1,000 MtlsCertificates from PKCS#12 Secrets across 10 namespaces
// exist before it starts; measured is the time until all are Ready, and its peak RSS.

const NAMESPACES = 10;
const PER_NAMESPACE = 100;
const DISTINCT_CERTIFICATES = 10;
const PASSWORD = 'bench-password';

type Figures = { operator_1000_ready_s: number; operator_peak_rss_mb: number };

/** Runs the measurement against the control plane whose env file is given. */
export async function measureOperatorColdStart(envFile: string): Promise<Figures> {
  const env = readEnv(envFile);
  const client = new KubeClient(connectionFromKubeconfig(env.KUBECONFIG));

  const files = makePkcs12Files(DISTINCT_CERTIFICATES);
  const jobs: (() => Promise<unknown>)[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    const namespace = `bench-${n}`;
    await client.create(collectionPath(CoreResources.namespaces), {
      metadata: { name: namespace },
    });
    for (let i = 0; i < PER_NAMESPACE; i++) {
      const name = `cert-${i}`;
      const file = files[(n * PER_NAMESPACE + i) % files.length];
      jobs.push(async () => {
        await client.create(collectionPath(CoreResources.secrets, namespace), {
          metadata: { name },
          data: {
            'keystore.p12': file.toString('base64'),
            password: Buffer.from(PASSWORD).toString('base64'),
          },
        });
        await client.create(collectionPath(RESOURCES.certificates, namespace), {
          apiVersion: 'mtls.io/v1alpha1',
          kind: 'MtlsCertificate',
          metadata: { name },
          spec: { source: { pkcs12: { secretName: name } } },
        });
      });
    }
  }
  await runConcurrently(jobs, 16);

  const startedAt = process.hrtime.bigint();
  // Run as users run it: with the V8 flags of the program's interpreter line.
  const bin = path.resolve(__dirname, '../../bin/mtls-operator.js');
  const operator = spawn(process.execPath, [...interpreterFlags(bin), bin], {
    env: { ...process.env, ...env, MTLS_PROBE_PORT: '0', MTLS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let peakKb = 0;
  const total = NAMESPACES * PER_NAMESPACE;
  try {
    for (;;) {
      peakKb = Math.max(peakKb, peakRssKb(operator.pid!));
      if ((await countReady(client)) >= total) break;
      if (operator.exitCode !== null) throw new Error('the operator exited during the benchmark');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    peakKb = Math.max(peakKb, peakRssKb(operator.pid!));
    return {
      operator_1000_ready_s: Number(seconds.toFixed(1)),
      operator_peak_rss_mb: Math.round(peakKb / 1024),
    };
  } finally {
    if (operator.exitCode === null && operator.signalCode === null) {
      const exited = once(operator, 'exit');
      operator.kill('SIGTERM');
      await exited;
    }
    client.close();
  }
}

async function countReady(client: KubeClient): Promise<number> {
  const list = await client.request<{
    items: { status?: { conditions?: { type: string; status: string }[] } }[];
  }>('GET', collectionPath(RESOURCES.certificates));
  return list.items.filter((item) =>
    item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
}

// The kernel's own high-water mark of the process's resident memory.
function peakRssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function makePkcs12Files(count: number): Buffer[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mtls-bench-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  try {
    return Array.from({ length: count }, (_, i) => {
      const [key, crt, p12] = ['key', 'crt', 'p12'].map((ext) => path.join(dir, `${i}.${ext}`));
      const subject = ['-subj', `/CN=bench-client-${i}`, '-addext', 'extendedKeyUsage=clientAuth'];
      openssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '30',
        ...subject,
        ...['-keyout', key, '-out', crt],
      );
      openssl(
        'pkcs12',
        '-export',
        '-in',
        crt,
        '-inkey',
        key,
        '-out',
        p12,
        ...['-passout', `pass:${PASSWORD}`],
      );
      return readFileSync(p12);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runConcurrently(jobs: (() => Promise<unknown>)[], limit: number) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

function readEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of readFileSync(file, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)) {
    env[match[1]] = match[2];
  }
  return env;
}
