import type { FlagSpec } from './args/argv-parser';

/** The flags every command takes, spelled as kubectl spells them. */
export const GLOBAL_FLAGS: FlagSpec[] = [
  {
    long: 'namespace',
    short: 'n',
    value: 'NAME',
    description: "namespace to use (default: the kubeconfig context's namespace)",
  },
  {
    long: 'kubeconfig',
    value: 'PATH',
    description: 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config)',
  },
  { long: 'context', value: 'NAME', description: 'kubeconfig context (default: the current one)' },
  { long: 'output', short: 'o', value: 'FORMAT', description: 'json or yaml (status: also wide)' },
  { long: 'help', short: 'h', description: 'help for the command' },
];
