import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadPluginSettings } from './plugin-config';

describe('loadPluginSettings', () => {
  const home = mkdtempSync(path.join(tmpdir(), 'plugin-home-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('takes --kubeconfig before KUBECONFIG, and KUBECONFIG before ~/.kube/config', () => {
    mkdirSync(path.join(home, '.kube'), { recursive: true });
    writeFileSync(path.join(home, '.kube', 'config'), '');
    const env = { KUBECONFIG: '/from/env' };

    expect(loadPluginSettings(['--kubeconfig', '/from/flag'], env, home).kubeconfig).toBe(
      '/from/flag',
    );
    expect(loadPluginSettings([], env, home).kubeconfig).toBe('/from/env');
    expect(loadPluginSettings([], {}, home).kubeconfig).toBe(path.join(home, '.kube', 'config'));
  });

  it('leaves the kubeconfig empty, meaning in-cluster, when ~/.kube/config is absent', () => {
    expect(loadPluginSettings([], {}, path.join(home, 'nobody')).kubeconfig).toBe('');
  });

  it('reads Vault from the environment and checks the address', () => {
    const env = { VAULT_ADDR: 'http://127.0.0.1:8200/', VAULT_TOKEN: 'root' };
    expect(loadPluginSettings([], env, home)).toMatchObject({
      vaultAddress: 'http://127.0.0.1:8200',
      vaultToken: 'root',
      vaultMount: 'secret',
    });
    expect(() => loadPluginSettings([], { VAULT_ADDR: 'vault:8200' }, home)).toThrow(
      'VAULT_ADDR is invalid',
    );
  });
});
