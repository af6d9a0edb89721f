import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import * as k8s from '@kubernetes/client-node';
import yaml from 'js-yaml';

import { adminKubeConfig, GROUND_DIR, kubectl, readGroundEnv } from './ground';

/** The chart under test. */
export const CHART_DIR = path.resolve(__dirname, '../../charts/mtls-operator');

/** The values files of the chart's ci folder, by name without `-values.yaml`. */
export const CI_VALUES = readdirSync(path.join(CHART_DIR, 'ci'))
  .filter((file) => file.endsWith('-values.yaml'))
  .map((file) => file.slice(0, -'-values.yaml'.length));

/** The version of the package, which the chart's appVersion and image tags follow. */
export const APP_VERSION: string = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8'),
).version;

/** A rendered Kubernetes object, loose enough to walk in assertions. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
};

/** What a helm command printed and how it ended. */
export type HelmResult = { status: number | null; stdout: string; stderr: string };

// Helm keeps its repositories, cache and plugins beside the ground instead of the user's home.
const helmHome = path.join(GROUND_DIR, 'helm');

/** Runs the ground's helm against the ground's apiserver; never throws. */
export function helm(...args: string[]): HelmResult {
  const env = readGroundEnv();
  const result = spawnSync(path.join(env.MTLS_CLUSTER_DIR, 'bin/helm'), args, {
    env: {
      ...process.env,
      KUBECONFIG: env.KUBECONFIG,
      HELM_CACHE_HOME: path.join(helmHome, 'cache'),
      HELM_CONFIG_HOME: path.join(helmHome, 'config'),
      HELM_DATA_HOME: path.join(helmHome, 'data'),
    },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs helm and returns its output, or throws with what it printed on failure. */
export function helmOk(...args: string[]): string {
  const result = helm(...args);
  if (result.status !== 0) {
    throw new Error(`helm ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** Parses a multi-document YAML stream into its objects, skipping empty documents. */
function parseManifests(text: string): Manifest[] {
  return yaml.loadAll(text).filter((doc): doc is Manifest => doc !== null && doc !== undefined);
}

/** A values file of the chart's ci folder, by its name without `-values.yaml`. */
export function ciValuesFile(name: string): string {
  return path.join(CHART_DIR, 'ci', `${name}-values.yaml`);
}

/** Values given to helm: values files, then `--set` pairs, the later winning. */
export type ChartValues = { valueFiles?: string[]; set?: string[] };

function valueArgs({ valueFiles = [], set = [] }: ChartValues): string[] {
  return [...valueFiles.flatMap((file) => ['--values', file]), ...set.flatMap((v) => ['--set', v])];
}

/** Renders the chart with `helm template` and returns its objects. */
export function renderChart(
  options: ChartValues & { release?: string; namespace?: string; includeCrds?: boolean },
): Manifest[] {
  const { release = 'mtls-operator', namespace = 'mtls-system' } = options;
  const args = ['template', release, CHART_DIR, '--namespace', namespace, ...valueArgs(options)];
  if (options.includeCrds) args.push('--include-crds');
  return parseManifests(helmOk(...args));
}

/**
 * Installs the chart into the ground as a release (`install`) or changes it (`upgrade`, with
 * extra flags), and returns the objects that `helm template` renders for the same values.
 */
export function applyChart(
  command: 'install' | 'upgrade',
  release: string,
  namespace: string,
  values: ChartValues,
  ...flags: string[]
): Manifest[] {
  helmOk(command, release, CHART_DIR, '--namespace', namespace, ...valueArgs(values), ...flags);
  return renderChart({ release, namespace, ...values });
}

/** The one object of a kind (and name, if given); fails the test when there is not exactly one. */
export function only(objects: Manifest[], kind: string, name?: string): Manifest {
  const found = objects.filter((o) => o.kind === kind && (!name || o.metadata.name === name));
  if (found.length !== 1) {
    const names = objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    throw new Error(`expected one ${kind} ${name ?? ''}, found ${found.length} among ${names}`);
  }
  return found[0];
}

/** Chart values by section: `values.sidecar.rateLimit`. */
export type Values = Record<string, Record<string, unknown>>;

/**
 * Reads an object back from the apiserver as admin, as JSON (the client's typed models rename
 * fields such as `from`), or undefined when it does not exist.
 */
export function readLive(object: Manifest): Manifest | undefined {
  const [group, version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : ['', object.apiVersion];
  const resource = [object.kind.toLowerCase(), version, group].join('.');
  const where = object.metadata.namespace ? ['--namespace', object.metadata.namespace] : [];
  const args = ['get', resource, object.metadata.name, ...where, '--ignore-not-found', '-o=json'];
  const json = kubectl(...args);
  return json.trim() === '' ? undefined : (JSON.parse(json) as Manifest);
}

/** Asks the apiserver whether a ServiceAccount may do something. */
export async function serviceAccountMay(
  serviceAccount: { name: string; namespace: string },
  attributes: k8s.V1ResourceAttributes,
): Promise<boolean> {
  const { name, namespace } = serviceAccount;
  const api = adminKubeConfig().makeApiClient(k8s.AuthorizationV1Api);
  const review = await api.createSubjectAccessReview({
    body: {
      spec: {
        user: `system:serviceaccount:${namespace}:${name}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`],
        resourceAttributes: attributes,
      },
    },
  });
  return review.status?.allowed ?? false;
}

/** The chart's default values, as values.yaml declares them. */
export function defaultValues(): Values {
  return yaml.load(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Values;
}

/** The default values with one values file of the ci folder over them. */
export function valuesWith(name: string): Values {
  const override = yaml.load(readFileSync(ciValuesFile(name), 'utf8'));
  return mergeValues(defaultValues(), override) as Values;
}

/** The injection file the chart should render for some values. */
export function expectedInjection(values: Values) {
  const { image, ...sidecar } = values.sidecar as { image: Record<string, string> };
  const { address, role, authMount, mount, tokenAudience } = values.vault;
  return {
    sidecar: {
      ...sidecar,
      image: `${image.repository}:${image.tag || APP_VERSION}`,
      imagePullPolicy: image.pullPolicy,
    },
    vault: { address, role, authMount, mount, tokenAudience },
    egress: values.egress,
  };
}

/** The injection file as rendered into its ConfigMap. */
export function injectionOf(objects: Manifest[], configMapName = 'mtls-operator-injection') {
  return yaml.load(only(objects, 'ConfigMap', configMapName).data['injection.yaml']);
}

/** Merges values files the way helm does: maps key by key, anything else replaced. */
export function mergeValues(base: unknown, override: unknown): unknown {
  if (!isMap(base) || !isMap(override)) return override === undefined ? base : override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeValues(base[key], value);
  return merged;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
