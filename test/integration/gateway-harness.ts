import { loadSidecarConfig } from '../../core/config/sidecar-config';
import { collectionPath, CoreResources, objectPath } from '../../core/kube/api-paths';
import { KubeClient } from '../../core/kube/kube-client';
import { connectionFromKubeconfig } from '../../core/kube/kube-connection';
import { createLogger, type Logger } from '../../core/log/logger';
import { RESOURCES } from '../../core/resources/api-resources';
import type { MtlsCertificate } from '../../core/resources/types';
import type { RunningOperator } from '../../operator/operator';
import {
  createGateway,
  type Gateway,
  type GatewayDependencies,
} from '../../sidecar/gateway/gateway';
import { eventually, eventualValue } from './eventually';
import { readGroundEnv, uniqueName } from './ground';
import { applyCrds, runOperator } from './operator-harness';

// The gateway as a user meets it: started in this process on loopback, called over real HTTP
// with real tokens of ServiceAccounts the test makes, under RBAC the test grants.

const serviceAccounts = {
  group: '',
  version: 'v1',
  plural: 'serviceaccounts',
  kind: 'ServiceAccount',
};

/** A KubeClient for the ground's admin user. */
export function adminKube(): KubeClient {
  return new KubeClient(connectionFromKubeconfig(readGroundEnv().KUBECONFIG));
}

/**
 * Starts a gateway against the ground: the admin kubeconfig as its Kubernetes identity, the root
 * token for Vault unless the flags give a role, free ports, and the given flags last.
 */
export async function startGateway(
  flags: string[] = [],
  dependencies: GatewayDependencies & { log?: Logger } = {},
): Promise<Gateway> {
  const env = readGroundEnv();
  const vault = flags.includes('--vault-role') ? [] : ['--vault-token', env.VAULT_TOKEN];
  const invocation = loadSidecarConfig(
    [
      '--mode',
      'gateway',
      '--namespace',
      'mtls-gateway',
      '--listen-port',
      '0',
      '--admin-port',
      '0',
      '--kubeconfig',
      env.KUBECONFIG,
      '--vault-addr',
      env.VAULT_ADDR,
      ...vault,
      '--check-interval',
      '1s',
      '--rate',
      '10000',
      '--burst',
      '10000',
      ...flags,
    ],
    {},
  );
  if (invocation.help) throw new Error('unexpected help');
  return createGateway(invocation.config, {
    listenHost: '127.0.0.1',
    log: createLogger('gateway-it', process.env.MTLS_TEST_LOG_LEVEL ?? 'error'),
    ...dependencies,
  });
}

/** Creates a namespace with a unique name. */
export async function createNamespace(kube: KubeClient, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await kube.create(collectionPath(CoreResources.namespaces), { metadata: { name } });
  return name;
}

/** One RBAC rule: verbs on resources of a group (mtls.io unless said). */
export type Rule = { resources: string[]; verbs: string[]; apiGroups?: string[] };

/**
 * A ServiceAccount of the namespace with a token from the TokenRequest API, and a Role and
 * RoleBinding granting it the rules. Resolves once the apiserver's RBAC allows every rule, so
 * the gateway's first SubjectAccessReview sees the grant.
 */
export async function serviceAccountWith(
  kube: KubeClient,
  namespace: string,
  rules: Rule[],
  options: { audiences?: string[]; name?: string } = {},
): Promise<{ name: string; user: string; token: string }> {
  const name = options.name ?? uniqueName('caller');
  const user = `system:serviceaccount:${namespace}:${name}`;
  await kube.create(collectionPath(serviceAccounts, namespace), {
    metadata: { name },
  });

  if (rules.length > 0) {
    const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1' };
    const fullRules = rules.map((rule) => ({ apiGroups: ['mtls.io'], ...rule }));
    await kube.create(collectionPath({ ...rbac, plural: 'roles', kind: 'Role' }, namespace), {
      metadata: { name },
      rules: fullRules,
    });
    await kube.create(
      collectionPath({ ...rbac, plural: 'rolebindings', kind: 'RoleBinding' }, namespace),
      {
        metadata: { name },
        subjects: [{ kind: 'ServiceAccount', name, namespace }],
        roleRef: { apiGroup: rbac.group, kind: 'Role', name },
      },
    );
    for (const rule of fullRules) {
      for (const verb of rule.verbs) {
        await eventually(`RBAC allows ${user} to ${verb}`, () =>
          allowed(kube, user, namespace, verb, rule.apiGroups[0], rule.resources[0]),
        );
      }
    }
  }

  return { name, user, token: await serviceAccountToken(kube, namespace, name, options.audiences) };
}

/** A token of an existing ServiceAccount, from the TokenRequest API. */
export async function serviceAccountToken(
  kube: KubeClient,
  namespace: string,
  name: string,
  audiences: string[] = [],
): Promise<string> {
  const answer = await kube.create<{ status: { token: string } }>(
    `${collectionPath(serviceAccounts, namespace)}/${name}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences, expirationSeconds: 3600 },
    },
  );
  return answer.status.token;
}

async function allowed(
  kube: KubeClient,
  user: string,
  namespace: string,
  verb: string,
  group: string,
  resource: string,
): Promise<boolean> {
  const review = await kube.create<{ status: { allowed?: boolean } }>(
    collectionPath(CoreResources.subjectAccessReviews),
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user,
        groups: ['system:serviceaccounts'],
        resourceAttributes: { namespace, verb, group, resource },
      },
    },
  );
  return review.status.allowed === true;
}

/** Every verb the API checks on certificates and mappings. */
export const ALL_RIGHTS: Rule[] = [
  {
    resources: ['mtlscertificates'],
    verbs: ['list', 'get', 'create', 'update', 'delete', 'use'],
  },
  { resources: ['mtlsmappings'], verbs: ['list', 'get', 'create', 'patch', 'delete'] },
];

/** An answer of the gateway: status, headers and the body (parsed when it is JSON). */
export type ApiResult = {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
};

/** Options of one call to the gateway. */
export type ApiCall = {
  method?: string;
  token?: string;
  json?: unknown;
  form?: FormData;
  body?: Buffer | string;
  headers?: Record<string, string>;
};

/** Calls the gateway over HTTP on loopback. */
export async function callGateway(
  gateway: Gateway,
  path: string,
  call: ApiCall = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  let body: string | Buffer | FormData | undefined;
  if (call.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(call.json);
  } else if (call.form) {
    body = call.form;
  } else if (call.body !== undefined) {
    body = call.body;
  }

  const response = await fetch(`http://127.0.0.1:${gateway.port}${path}`, {
    method: call.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  if (response.headers.get('content-type')?.includes('json') && text) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** A form with a PKCS#12 file part and text fields. */
export function p12Form(p12: Buffer, fields: Record<string, string>, part = 'p12'): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.set(name, value);
  form.set(part, new Blob([p12], { type: 'application/x-pkcs12' }), 'client.p12');
  return form;
}

/** What an API test file runs against: a gateway, the real operator, an admin client. */
export type ApiGround = { gateway: Gateway; operator: RunningOperator; kube: KubeClient };

/**
 * Starts the operator and a gateway (with the given flags) before the file's tests and stops them
 * after. The object returned is filled in by the time the first test runs.
 */
export function useApiGround(flags: string[] = []): ApiGround {
  const ground = {} as ApiGround;
  beforeAll(async () => {
    applyCrds();
    ground.operator = await runOperator();
    ground.gateway = await startGateway(flags);
    ground.kube = adminKube();
  }, 120_000);
  afterAll(async () => {
    await ground.gateway?.close();
    await ground.operator?.stop();
    ground.kube?.close();
  });
  return ground;
}

/** A new namespace, a caller with ALL_RIGHTS in it, and the API path of its `collection`. */
export async function namespaceWithCaller(
  kube: KubeClient,
  prefix: string,
  collection: 'certificates' | 'mappings',
): Promise<{ namespace: string; token: string; path: string }> {
  const namespace = await createNamespace(kube, prefix);
  const { token } = await serviceAccountWith(kube, namespace, ALL_RIGHTS);
  return { namespace, token, path: `/api/v1/accounts/${namespace}/${collection}` };
}

/** A Secret as the certificate tests read it. */
export type SecretObject = {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
  data: Record<string, string>;
};

/** A Secret of the namespace, or undefined. */
export function secretOf(kube: KubeClient, namespace: string, name: string) {
  return kube.get<SecretObject>(objectPath(RESOURCES.secrets, namespace, name));
}

/** An MtlsCertificate of the namespace, or undefined. */
export function certificateOf(kube: KubeClient, namespace: string, name: string) {
  return kube.get<MtlsCertificate>(objectPath(RESOURCES.certificates, namespace, name));
}

/** The certificate entity at `path`, once the operator made it Available. */
export function whenAvailable(gateway: Gateway, path: string, token: string) {
  return eventualValue(async () => {
    const result = await callGateway(gateway, path, { token });
    return result.body.status === 'Available' ? result.body : undefined;
  }, `${path} to be Available`);
}
