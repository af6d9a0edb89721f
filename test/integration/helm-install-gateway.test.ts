import * as k8s from '@kubernetes/client-node';

import { adminKubeConfig, uniqueName } from './ground';
import { applyChart, ciValuesFile, helm, readLive, serviceAccountMay, type Manifest } from './helm';

// The chart with the gateway, NetworkPolicies and a self-serve namespace, installed by helm into
// the real apiserver, which checks every object against its schema. ServiceMonitors stay off:
// the ground has no Prometheus Operator CRDs.

const release = uniqueName('gw');
const namespace = uniqueName('chart-gw');
const team = uniqueName('team');
const gateway = { name: `${release}-mtls-operator-gateway`, namespace };
const values = {
  valueFiles: [ciValuesFile('network-policy')],
  set: ['serviceMonitor.enabled=false', `gateway.selfServeNamespaces={${team}}`],
};
let rendered: Manifest[];
let installed = false;

beforeAll(async () => {
  const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const name of [namespace, team])
    await core.createNamespace({ body: { metadata: { name } } });

  rendered = applyChart('install', release, namespace, values);
  installed = true;
});

afterAll(() => {
  if (installed) helm('uninstall', release, '--namespace', namespace);
});

describe('the chart installed with the gateway and NetworkPolicies', () => {
  it('creates every rendered object in the apiserver as rendered', async () => {
    const kinds = rendered.map((o) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['NetworkPolicy', 'RoleBinding', 'Deployment']));
    expect(kinds.filter((kind) => kind === 'Deployment')).toHaveLength(2);

    for (const object of rendered) {
      expect(readLive(object)).toMatchObject(object);
    }
  });

  it.each([
    ['may', 'review tokens', { group: 'authentication.k8s.io', resource: 'tokenreviews' }],
    ['may', 'review access', { group: 'authorization.k8s.io', resource: 'subjectaccessreviews' }],
    ['may', "create a team's Secret", { group: '', resource: 'secrets', namespace: team }],
    [
      'may',
      "create a team's certificate",
      { group: 'mtls.io', resource: 'mtlscertificates', namespace: team },
    ],
    ['may not', 'create Secrets elsewhere', { group: '', resource: 'secrets', namespace: 'x' }],
    ['may not', 'create pods', { group: '', resource: 'pods', namespace: team }],
  ])('the gateway ServiceAccount %s %s', async (may, _what, attributes) => {
    const allowed = await serviceAccountMay(gateway, { verb: 'create', ...attributes });

    expect(allowed).toBe(may === 'may');
  });
});
