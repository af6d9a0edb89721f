import type { ApiAuthPolicy, ApiGroup } from '../../../core/config/api-auth-policy';
import { schemas } from './openapi-schemas';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });

const namespace = {
  name: 'namespace',
  in: 'path',
  required: true,
  description: 'The namespace, which plays the part of the account.',
  schema: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' },
};
const name = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { $ref: '#/components/schemas/ObjectName' },
};

const PROBLEMS: Record<number, string> = {
  400: 'The request is malformed; the message names the field.',
  401: 'No, or no accepted, credentials (AUTH_*, OAUTH_*).',
  403: 'RBAC, or the OAuth consumer, does not allow it; the message names the permission.',
  404: 'No such object.',
  409: 'The object exists already, or is not in a state for this.',
  413: 'The body, or the PKCS#12 file, is too large.',
  415: 'Neither JSON nor multipart/form-data.',
  422: 'The PKCS#12 file cannot be used; the code says why (P12_BAD_PASSWORD...).',
  424: 'The mutual-TLS call to the URL failed; the message carries the transport error.',
  429:
    'More requests from this address than --rate and --burst allow (PROXY_RATE_LIMITED); ' +
    'Retry-After says when to try again.',
  502: 'The apiserver refused or failed a request of the gateway (KUBE_API_FAILED).',
  503:
    'A TokenReview or SubjectAccessReview (AUTH_UNAVAILABLE), Vault (VAULT_*) or the shared ' +
    'rate limit (PROXY_RATE_LIMIT_UNAVAILABLE) could not be reached; retry.',
};

// Every operation passes the rate limit first; every authenticated one asks the apiserver.
const EVERY_OPERATION = [429, 503];
const KUBE_GROUPS: readonly ApiGroup[] = ['certificates', 'mappings', 'check'];

function problems(...statuses: number[]): Record<string, object> {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: PROBLEMS[status], content: json(ref('Problem')) },
    ]),
  );
}

function answer(description: string, schema?: object): object {
  return schema ? { description, content: json(schema) } : { description };
}

const upload = (jsonSchema: object, formSchema: string) => ({
  required: true,
  content: {
    'application/json': { schema: jsonSchema },
    'multipart/form-data': { schema: ref(formSchema) },
  },
});

const forwardingHeaders = [
  ['LP-forward-url', true, 'The absolute URL to call over mutual TLS.'],
  ['LP-service-name', false, 'The calling service: selects mappings made for it.'],
  ['LP-authorization-override', false, 'Sent upstream as Authorization.'],
  [
    'LP-stop-if-certificate-not-found',
    false,
    '`true` in any letter case: refuse instead of a passthrough; any other value is false.',
  ],
].map(([header, required, description]) => ({
  name: header,
  in: 'header',
  required,
  description,
  schema: { type: 'string' },
}));

/**
 * The gateway's OpenAPI 3.1 document. Each operation's security lists the schemes the policy
 * gives its group, and its `x-permission` the RBAC right it checks, so the document says who
 * may call what on this gateway.
 */
export function openApiDocument(policy: ApiAuthPolicy): Record<string, unknown> {
  const security = (group: ApiGroup) =>
    policy.schemesFor(group).map((scheme) => ({ [scheme === 'bearer' ? 'bearer' : 'oauth1']: [] }));
  const op = (
    group: ApiGroup,
    permission: string | undefined,
    fields: { responses: Record<string, object>; [field: string]: unknown },
  ) => ({
    ...fields,
    responses: {
      ...fields.responses,
      ...problems(...(KUBE_GROUPS.includes(group) ? [502] : []), ...EVERY_OPERATION),
    },
    security: security(group),
    ...(permission ? { 'x-permission': permission } : {}),
  });

  const certificates = '/api/v1/accounts/{namespace}/certificates';
  const mappings = '/api/v1/accounts/{namespace}/mappings';
  const forward = (method: string) =>
    op('forward', 'use mtlscertificates.mtls.io', {
      operationId: `forward${method}`,
      summary: 'Forward the request to LP-forward-url over mutual TLS',
      parameters: [namespace, ...forwardingHeaders],
      ...(method === 'Get' || method === 'Delete'
        ? {}
        : { requestBody: { content: { '*/*': { schema: {} } } } }),
      responses: {
        default: { description: "The upstream's answer, or one of the proxy's (docs/sidecar.md)." },
        ...problems(401, 403, 424),
      },
    });

  return {
    openapi: '3.1.0',
    info: {
      title: 'mtls-operator gateway',
      version: '1',
      description:
        'Self-serve certificates and mappings, the configuration check, the P12 testing ' +
        'tool and the forwarding method. A namespace plays the part of the account. ' +
        'See docs/gateway.md.',
    },
    paths: {
      '/api/openapi.json': {
        get: {
          operationId: 'getOpenApiJson',
          summary: 'This document, as JSON',
          security: [],
          responses: {
            '200': answer('The document', { type: 'object' }),
            ...problems(...EVERY_OPERATION),
          },
        },
      },
      '/api/openapi.yaml': {
        get: {
          operationId: 'getOpenApiYaml',
          summary: 'This document, as YAML',
          security: [],
          responses: {
            '200': { description: 'The document', content: { 'application/yaml': { schema: {} } } },
            ...problems(...EVERY_OPERATION),
          },
        },
      },
      [certificates]: {
        parameters: [namespace],
        get: op('certificates', 'list mtlscertificates.mtls.io', {
          operationId: 'listCertificates',
          summary: 'List the certificates of the namespace',
          responses: {
            '200': answer('The certificates', { type: 'array', items: ref('Certificate') }),
            ...problems(401, 403),
          },
        }),
        post: op('certificates', 'create mtlscertificates.mtls.io', {
          operationId: 'createCertificates',
          summary: 'Create certificates from PKCS#12 files (a Secret and an MtlsCertificate each)',
          requestBody: upload(
            {
              oneOf: [ref('CertificateUpload'), { type: 'array', items: ref('CertificateUpload') }],
            },
            'CertificateForm',
          ),
          responses: {
            '201': answer('At least one was saved', ref('SaveReport')),
            ...problems(400, 401, 403, 409, 413, 415, 422),
          },
        }),
      },
      [`${certificates}/{name}`]: {
        parameters: [namespace, name],
        get: op('certificates', 'get mtlscertificates.mtls.io', {
          operationId: 'getCertificate',
          summary: 'Get one certificate',
          responses: {
            '200': answer('The certificate', ref('Certificate')),
            ...problems(401, 403, 404),
          },
        }),
        put: op('certificates', 'update mtlscertificates.mtls.io', {
          operationId: 'updateCertificate',
          summary: 'Replace the PKCS#12 file and password of a certificate',
          requestBody: upload(ref('CertificateReplacement'), 'CertificateReplacementForm'),
          responses: {
            '200': answer('Saved', ref('SaveReport')),
            ...problems(400, 401, 403, 404, 409, 413, 415, 422),
          },
        }),
        delete: op('certificates', 'delete mtlscertificates.mtls.io', {
          operationId: 'deleteCertificate',
          summary: 'Delete a certificate and its Secret when the gateway or kubectl-mtls made it',
          responses: { '204': answer('Deleted'), ...problems(401, 403, 404) },
        }),
      },
      [mappings]: {
        parameters: [namespace],
        get: op('mappings', 'list mtlsmappings.mtls.io', {
          operationId: 'listMappings',
          summary: 'List the mappings of the namespace',
          responses: {
            '200': answer('The mappings', { type: 'array', items: ref('Mapping') }),
            ...problems(401, 403),
          },
        }),
        post: op(
          'mappings',
          'create mtlsmappings.mtls.io (and use mtlscertificates.mtls.io to validate)',
          {
            operationId: 'createMapping',
            summary: 'Map a certificate to a URL, enabled, optionally validated live first',
            requestBody: { required: true, content: json(ref('NewMapping')) },
            responses: {
              '201': answer('Created', ref('Mapping')),
              ...problems(400, 401, 403, 404, 409, 415, 424),
            },
          },
        ),
      },
      [`${mappings}/{name}`]: {
        parameters: [namespace, name],
        get: op('mappings', 'get mtlsmappings.mtls.io', {
          operationId: 'getMapping',
          summary: 'Get one mapping',
          responses: { '200': answer('The mapping', ref('Mapping')), ...problems(401, 403, 404) },
        }),
        patch: op(
          'mappings',
          'patch mtlsmappings.mtls.io (and use mtlscertificates.mtls.io to validate)',
          {
            operationId: 'setMappingEnabled',
            summary: 'Activate or deactivate a mapping, optionally validated live first',
            requestBody: {
              required: true,
              content: {
                ...json(ref('MappingEnabledChange')),
                'application/merge-patch+json': { schema: ref('MappingEnabledChange') },
              },
            },
            responses: {
              '200': answer('Changed; the operator judges it again', ref('Mapping')),
              ...problems(400, 401, 403, 404, 409, 415, 424),
            },
          },
        ),
        delete: op('mappings', 'delete mtlsmappings.mtls.io', {
          operationId: 'deleteMapping',
          summary: 'Delete a mapping',
          responses: { '204': answer('Deleted'), ...problems(401, 403, 404) },
        }),
      },
      '/api/v1/configuration/check': {
        post: op('check', 'list mtlsmappings.mtls.io in each namespace named', {
          operationId: 'checkConfigurationV1',
          summary: 'Whether each (namespace, service, URL) is mapped: one boolean per pair',
          requestBody: {
            required: true,
            content: json({ type: 'array', items: ref('CheckQuery') }),
          },
          responses: {
            '200': answer('In the order asked', { type: 'array', items: { type: 'boolean' } }),
            ...problems(400, 401, 403),
          },
        }),
      },
      '/api/v2/configuration/check': {
        post: op('check', 'list mtlsmappings.mtls.io in each namespace named', {
          operationId: 'checkConfigurationV2',
          summary: 'The mapping, certificate and states that decide each (namespace, service, URL)',
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['checks'],
              properties: { checks: { type: 'array', items: ref('CheckQuery') } },
            }),
          },
          responses: {
            '200': answer('In the order asked', {
              type: 'object',
              properties: { results: { type: 'array', items: ref('NamespacedCheckVerdict') } },
            }),
            ...problems(400, 401, 403),
          },
        }),
      },
      '/api/v1/accounts/{namespace}/configuration/check': {
        parameters: [namespace],
        post: op('check', 'list mtlsmappings.mtls.io', {
          operationId: 'checkAccountConfiguration',
          summary: 'The v2 verdicts for (service, URL) pairs of one namespace',
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['checks'],
              properties: { checks: { type: 'array', items: ref('AccountCheckQuery') } },
            }),
          },
          responses: {
            '200': answer('In the order asked', {
              type: 'object',
              properties: {
                namespace: { type: 'string' },
                results: { type: 'array', items: ref('CheckVerdict') },
              },
            }),
            ...problems(400, 401, 403),
          },
        }),
      },
      '/api/v1/p12/test': {
        post: op('p12', undefined, {
          operationId: 'testP12',
          summary: 'Whether a PKCS#12 file and password make a usable client certificate, and why',
          requestBody: upload(ref('P12Test'), 'P12TestForm'),
          responses: {
            '200': answer('The verdict; nothing is stored', ref('P12Verdict')),
            ...problems(400, 401, 413, 415),
          },
        }),
      },
      '/mtls/account/{namespace}': {
        get: forward('Get'),
        post: forward('Post'),
        put: forward('Put'),
        patch: forward('Patch'),
        delete: forward('Delete'),
      },
    },
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'Kubernetes ServiceAccount or user token (TokenReview)',
        },
        oauth1: {
          type: 'http',
          scheme: 'OAuth',
          description: 'OAuth 1.0 (RFC 5849), HMAC-SHA1, consumers from labelled Secrets',
        },
      },
    },
  };
}
