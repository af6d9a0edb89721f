import { ErrorCode } from '../../../core/errors/codes';
import { MappingUrlError, parseMappingUrl } from '../../../core/mapping/url-match';
import type { MtlsMapping } from '../../../core/resources/types';
import type { Permission } from '../auth/access-reviewer';
import type { GatewayAuth } from '../auth/gateway-auth';
import { GatewayError, invalidApiRequest } from '../gateway-error';
import type { ApiRoute } from './api-router';
import type { CertificateStore } from './certificate-store';
import { checkObjectName } from './certificate-upload';
import { mappingEntity } from './mapping-entity';
import type { MappingStore, NewMapping } from './mapping-store';
import type { MappingValidator } from './mapping-validator';
import { readJsonBody } from './request-body';

/** What the mapping operations use. */
export type MappingRouteDeps = {
  mappings: MappingStore;
  certificates: CertificateStore;
  validator: MappingValidator;
  auth: GatewayAuth;
};

const COLLECTION = '/api/v1/accounts/{namespace}/mappings';
const ITEM = `${COLLECTION}/{name}`;
const READ_CERTIFICATE: Permission = { verb: 'get', resource: 'mtlscertificates' };

// A Kubernetes label value: the service becomes one in the mapping's workload selector.
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * The mapping operations: list, get, create, activate or deactivate, delete. Creating and
 * activating may validate the URL live first.
 */
export function mappingRoutes(deps: MappingRouteDeps): ApiRoute[] {
  const { mappings, certificates, validator, auth } = deps;
  return [
    {
      method: 'GET',
      path: COLLECTION,
      operationId: 'listMappings',
      group: 'mappings',
      permission: { verb: 'list', resource: 'mtlsmappings' },
      async handle({ params }) {
        return { status: 200, body: (await mappings.list(params.namespace)).map(mappingEntity) };
      },
    },
    {
      method: 'GET',
      path: ITEM,
      operationId: 'getMapping',
      group: 'mappings',
      permission: { verb: 'get', resource: 'mtlsmappings' },
      async handle({ params }) {
        return {
          status: 200,
          body: mappingEntity(await mappings.get(params.namespace, params.name)),
        };
      },
    },
    {
      method: 'POST',
      path: COLLECTION,
      operationId: 'createMapping',
      group: 'mappings',
      permission: { verb: 'create', resource: 'mtlsmappings' },
      async handle({ req, params, caller }) {
        const { namespace } = params;
        const { mapping, validate } = readNewMapping(await readJsonBody(req));
        const match = parseUrl(mapping.url);

        // Validating calls out with the certificate, as forwarding does: the same right. An
        // unknown certificate is a 404 only to a caller who may see certificates; for others
        // the mapping waits for it (CertificateNotReady), as one made with kubectl would.
        if (validate) {
          await auth.authorize(caller!, namespace, { verb: 'use', resource: 'mtlscertificates' });
          const certificate = await certificates.get(namespace, mapping.certificateName);
          await validator.validate(certificate, match);
        } else if (await auth.may(caller!, namespace, READ_CERTIFICATE)) {
          await certificates.get(namespace, mapping.certificateName);
        }
        return { status: 201, body: mappingEntity(await mappings.create(namespace, mapping)) };
      },
    },
    {
      method: 'PATCH',
      path: ITEM,
      operationId: 'setMappingEnabled',
      group: 'mappings',
      permission: { verb: 'patch', resource: 'mtlsmappings' },
      async handle({ req, params, caller }) {
        const { namespace, name } = params;
        const { enabled, validate } = readEnabledChange(await readJsonBody(req));

        // Only a mapping about to carry calls is validated: deactivating sends nothing. What was
        // validated is what gets enabled: the change holds only for the URL and certificate read.
        let validated: MtlsMapping['spec'] | undefined;
        if (enabled && validate) {
          const mapping = await mappings.get(namespace, name);
          const match = parseUrl(mapping.spec.url);
          await auth.authorize(caller!, namespace, { verb: 'use', resource: 'mtlscertificates' });
          const certificate = await certificates.get(namespace, mapping.spec.certificateName);
          await validator.validate(certificate, match);
          validated = mapping.spec;
        }
        const changed = await mappings.setEnabled(namespace, name, enabled, validated);
        return { status: 200, body: mappingEntity(changed) };
      },
    },
    {
      method: 'DELETE',
      path: ITEM,
      operationId: 'deleteMapping',
      group: 'mappings',
      permission: { verb: 'delete', resource: 'mtlsmappings' },
      async handle({ params }) {
        await mappings.delete(params.namespace, params.name);
        return { status: 204 };
      },
    },
  ];
}

function readNewMapping(value: unknown): { mapping: NewMapping; validate: boolean } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidApiRequest(
      'expected a JSON object { name?, url, certificateName, serviceName?, validate? }',
    );
  }
  const record = value as Record<string, unknown>;
  if (typeof record.url !== 'string') throw invalidApiRequest('url is required: an https URL');
  if (record.validate !== undefined && typeof record.validate !== 'boolean') {
    throw invalidApiRequest('validate must be true or false');
  }
  const serviceName = record.serviceName ?? undefined;
  if (
    serviceName !== undefined &&
    (typeof serviceName !== 'string' || !LABEL_VALUE.test(serviceName))
  ) {
    throw invalidApiRequest(
      'serviceName must be a label value: up to 63 letters, digits, -, _ and ., ' +
        'starting and ending with a letter or digit',
    );
  }
  return {
    mapping: {
      name: record.name === undefined ? undefined : checkObjectName(record.name),
      url: record.url,
      certificateName: checkObjectName(record.certificateName),
      serviceName: serviceName as string | undefined,
    },
    validate: record.validate === true,
  };
}

// A PATCH changes whether the mapping is enabled and nothing else: other fields are refused
// rather than ignored, so a caller never believes it changed a URL or a certificate.
function readEnabledChange(value: unknown): { enabled: boolean; validate: boolean } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidApiRequest('expected a JSON object { enabled, validate? }');
  }
  const record = value as Record<string, unknown>;
  const others = Object.keys(record).filter((key) => key !== 'enabled' && key !== 'validate');
  if (others.length > 0) {
    throw invalidApiRequest(
      `only enabled (and validate) can be changed; not ${others.join(', ')}: ` +
        'delete the mapping and create it again to change the rest',
    );
  }
  if (typeof record.enabled !== 'boolean') {
    throw invalidApiRequest('enabled is required: true to activate, false to deactivate');
  }
  if (record.validate !== undefined && typeof record.validate !== 'boolean') {
    throw invalidApiRequest('validate must be true or false');
  }
  return { enabled: record.enabled, validate: record.validate === true };
}

function parseUrl(url: string) {
  try {
    return parseMappingUrl(url);
  } catch (err) {
    if (!(err instanceof MappingUrlError)) throw err;
    throw new GatewayError(400, ErrorCode.MappingUrlInvalid, err.message);
  }
}
