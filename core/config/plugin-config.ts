import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { parseOptions, type OptionValues } from './options';
import { httpUrl, text } from './parsers';

/**
 * The options of `kubectl-mtls` that the environment may set, as kubectl and the Vault CLI
 * users expect: the flag wins, then the variable, then the default.
 */
export const PLUGIN_OPTIONS = {
  kubeconfig: {
    flag: 'kubeconfig',
    env: 'KUBECONFIG',
    description: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)',
    parse: text,
    default: '',
  },
  vaultAddress: {
    flag: 'vault-addr',
    env: 'VAULT_ADDR',
    description: 'Vault or OpenBao address, for check --live',
    parse: httpUrl,
    default: '',
  },
  vaultToken: {
    flag: 'vault-token',
    env: 'VAULT_TOKEN',
    description: 'Vault token that may read the certificate (prefer VAULT_TOKEN)',
    parse: text,
    default: '',
  },
  vaultMount: {
    flag: 'vault-mount',
    env: 'MTLS_VAULT_MOUNT',
    description: 'KV version 2 mount that holds the mtls/ tree',
    parse: text,
    default: 'secret',
  },
};

/** The plugin's settings, with the kubeconfig resolved to a file when one exists. */
export type PluginSettings = OptionValues<typeof PLUGIN_OPTIONS>;

/**
 * Reads the plugin's settings from `--flag value` pairs and the environment. An empty
 * kubeconfig falls back to `~/.kube/config` when that file exists, and stays empty otherwise,
 * which means the in-cluster configuration of a pod.
 */
export function loadPluginSettings(
  flags: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = os.homedir(),
): PluginSettings {
  const settings = parseOptions(PLUGIN_OPTIONS, flags, env);
  if (settings.kubeconfig === '') {
    const standard = path.join(home, '.kube', 'config');
    if (existsSync(standard)) settings.kubeconfig = standard;
  }
  return settings;
}
