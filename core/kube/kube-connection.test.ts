import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { connectionFromKubeconfig, loadKubeConnection } from './kube-connection';

function kubeconfigFile(user: Record<string, unknown>, extra = ''): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
  writeFileSync(path.join(dir, 'ca.crt'), 'CA FROM FILE');
  writeFileSync(path.join(dir, 'token'), 'token-from-file\n');
  const file = path.join(dir, 'config');
  writeFileSync(
    file,
    JSON.stringify({
      'current-context': 'dev',
      clusters: [
        {
          name: 'local',
          cluster: { server: 'https://127.0.0.1:6443/', 'certificate-authority': 'ca.crt' },
        },
      ],
      users: [{ name: 'me', user }],
      contexts: [{ name: 'dev', context: { cluster: 'local', user: 'me', namespace: 'payments' } }],
    }) + extra,
  );
  return file;
}

describe('connectionFromKubeconfig', () => {
  it('names the file of an empty kubeconfig, which has no context to use', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-'));
    writeFileSync(path.join(dir, 'empty'), '');
    expect(() => connectionFromKubeconfig(path.join(dir, 'empty'))).toThrow(
      `the kubeconfig ${path.join(dir, 'empty')} has no current-context and no context was named`,
    );
  });

  it('reads the current context, with files relative to the kubeconfig', () => {
    const connection = connectionFromKubeconfig(kubeconfigFile({ token: 'abc' }));

    expect(connection.server).toBe('https://127.0.0.1:6443');
    expect(connection.tls.ca?.toString()).toBe('CA FROM FILE');
    expect(connection.tls.rejectUnauthorized).toBe(true);
    expect(connection.authorization()).toBe('Bearer abc');
    expect(connection.namespace).toBe('payments');
  });

  it('takes inline client certificates and token files', () => {
    const cert = Buffer.from('CERT').toString('base64');
    const key = Buffer.from('KEY').toString('base64');
    const file = kubeconfigFile({
      'client-certificate-data': cert,
      'client-key-data': key,
      tokenFile: 'token',
    });

    const connection = connectionFromKubeconfig(file);

    expect(connection.tls.cert?.toString()).toBe('CERT');
    expect(connection.tls.key?.toString()).toBe('KEY');
    expect(connection.authorization()).toBe('Bearer token-from-file');
  });

  it('refuses a user that needs an exec plugin, naming it', () => {
    const file = kubeconfigFile({ exec: { command: 'aws' } });

    expect(() => connectionFromKubeconfig(file)).toThrow(/user 'me' needs an exec/);
  });

  it('refuses a context that does not exist', () => {
    const file = kubeconfigFile({ token: 'abc' });

    expect(() => connectionFromKubeconfig(file, 'prod')).toThrow(/no context 'prod'/);
  });

  it('uses the first file of a KUBECONFIG list', () => {
    const file = kubeconfigFile({ token: 'abc' });

    expect(loadKubeConnection(`${file}${path.delimiter}/nonexistent`).server).toBe(
      'https://127.0.0.1:6443',
    );
  });
});
