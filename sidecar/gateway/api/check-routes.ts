import type { Permission } from '../auth/access-reviewer';
import type { Caller, GatewayAuth } from '../auth/gateway-auth';
import { invalidApiRequest } from '../gateway-error';
import type { ApiRoute } from './api-router';
import type { CertificateStore } from './certificate-store';
import { checkConfiguration, type CheckQuery, type CheckVerdict } from './configuration-check';
import type { MappingStore } from './mapping-store';
import { readJsonBody } from './request-body';

/** What the configuration checks read. */
export type CheckRouteDeps = {
  mappings: MappingStore;
  certificates: CertificateStore;
  auth: GatewayAuth;
};

type NamespacedQuery = CheckQuery & { namespace: string };

const MAX_CHECKS = 500;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const READ_MAPPINGS: Permission = { verb: 'list', resource: 'mtlsmappings' };
const READ_CERTIFICATES: Permission = { verb: 'list', resource: 'mtlscertificates' };

/**
 * The configuration check in three shapes: v1 (a list of booleans, one per pair), v2 (a verdict
 * per pair with the mapping, the certificate and their states) and the account-scoped one (v2's
 * verdicts for the namespace in the path).
 */
export function checkRoutes(deps: CheckRouteDeps): ApiRoute[] {
  const verdicts = async (caller: Caller, queries: NamespacedQuery[]) => {
    const namespaces = [...new Set(queries.map((query) => query.namespace))];
    for (const namespace of namespaces) await deps.auth.authorize(caller, namespace, READ_MAPPINGS);

    const byNamespace = new Map<string, CheckVerdict[]>();
    for (const namespace of namespaces) {
      const [mappings, certificates] = await Promise.all([
        deps.mappings.list(namespace),
        deps.certificates.list(namespace),
      ]);
      const own = queries.filter((query) => query.namespace === namespace);
      const found = checkConfiguration(own, mappings, certificates);
      // A certificate's state is for those who may list certificates; the name is the mapping's.
      const seesCertificates = await deps.auth.may(caller, namespace, READ_CERTIFICATES);
      byNamespace.set(
        namespace,
        seesCertificates
          ? found
          : found.map((verdict) => ({ ...verdict, certificateStatus: null })),
      );
    }
    // Back in the order asked.
    return queries.map((query) => ({
      namespace: query.namespace,
      ...byNamespace.get(query.namespace)!.shift()!,
    }));
  };

  return [
    {
      method: 'POST',
      path: '/api/v1/configuration/check',
      operationId: 'checkConfigurationV1',
      group: 'check',
      async handle({ req, caller }) {
        const queries = readQueries(
          await readJsonBody(req),
          'v1',
          undefined,
          onlyNamespace(caller!),
        );
        const results = await verdicts(caller!, queries);
        return { status: 200, body: results.map((result) => result.mapped) };
      },
    },
    {
      method: 'POST',
      path: '/api/v2/configuration/check',
      operationId: 'checkConfigurationV2',
      group: 'check',
      async handle({ req, caller }) {
        const queries = readQueries(await readJsonBody(req), 'v2', undefined);
        return { status: 200, body: { results: await verdicts(caller!, queries) } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/accounts/{namespace}/configuration/check',
      operationId: 'checkAccountConfiguration',
      group: 'check',
      permission: READ_MAPPINGS,
      async handle({ req, params, caller }) {
        const queries = readQueries(await readJsonBody(req), 'account', params.namespace);
        const results = (await verdicts(caller!, queries)).map(
          ({ namespace: _namespace, ...verdict }) => verdict,
        );
        return { status: 200, body: { namespace: params.namespace, results } };
      },
    },
  ];
}

/**
 * v1 takes a bare list of `{namespace, service?, url}`; v2 `{checks: [...]}` of the same; the
 * account shape `{checks: [{service?, url}]}`, its namespace in the path.
 */
function readQueries(
  body: unknown,
  shape: 'v1' | 'v2' | 'account',
  pathNamespace: string | undefined,
  defaultNamespace?: string,
): NamespacedQuery[] {
  const list = shape === 'v1' ? body : (body as { checks?: unknown } | null)?.checks;
  const expected =
    shape === 'v1'
      ? 'a JSON list of { namespace, service?, url }'
      : 'a JSON object { checks: [...] }';
  if (!Array.isArray(list)) throw invalidApiRequest(`expected ${expected}`);
  if (list.length > MAX_CHECKS) {
    throw invalidApiRequest(`at most ${MAX_CHECKS} pairs per request, got ${list.length}`);
  }

  return list.map((entry: unknown, i) => {
    const item = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<
      string,
      unknown
    >;
    const where = shape === 'v1' ? `[${i}]` : `checks[${i}]`;
    if (typeof item.url !== 'string') throw invalidApiRequest(`${where}.url is required`);
    // serviceName as well, the field's name where a mapping is created.
    if (item.service != null && item.serviceName != null && item.service !== item.serviceName) {
      throw invalidApiRequest(`${where}: service and serviceName differ; send one of them`);
    }
    const service = item.service ?? item.serviceName ?? null;
    if (service !== null && typeof service !== 'string') {
      throw invalidApiRequest(`${where}.service must be a string`);
    }
    const namespace = pathNamespace ?? item.namespace ?? defaultNamespace;
    if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
      throw invalidApiRequest(`${where}.namespace is required: the namespace (account) to check`);
    }
    return { namespace, service: service === '' ? null : service, url: item.url };
  });
}

/** The namespace an OAuth consumer acts for, when it acts for exactly one. */
function onlyNamespace(caller: Caller): string | undefined {
  if (caller.scheme !== 'oauth1' || caller.consumer.namespaces.length !== 1) return undefined;
  return caller.consumer.namespaces[0];
}
