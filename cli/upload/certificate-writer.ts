import { collectionPath, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { DISPLAY_NAME_ANNOTATION } from '../../core/resources/annotations';
import { RESOURCES } from '../../core/resources/api-resources';
import {
  isWrittenByProject,
  MANAGED_BY_LABEL,
  PKCS12_FILE_KEY,
  PKCS12_PASSWORD_KEY,
  pkcs12SecretName,
  pkcs12SecretOf,
  SecretWriter,
} from '../../core/resources/pkcs12-secret';
import { API_VERSION, type MtlsCertificate } from '../../core/resources/types';

/** What to write: the objects' names, the file and its password. */
export type UploadPlan = {
  namespace: string;
  name: string;
  secretName: string;
  displayName?: string;
  /** A ConfigMap of the namespace with the CAs of the partner's servers (key ca.crt). */
  trustedCaConfigMap?: string;
  file: Buffer;
  password: string;
};

/** What happened to one object, in kubectl's words. */
export type WriteAction = 'created' | 'configured';

type SecretObject = {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: OwnerReference[] };
};
type OwnerReference = { apiVersion: string; kind: string; name: string; uid: string };

/**
 * The Secret an upload writes when none is chosen: the one the certificate names, so that an
 * overwrite updates what the gateway or an earlier upload made; else the default one.
 */
export async function secretInUse(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<string> {
  const path = objectPath(RESOURCES.certificates, namespace, name);
  const certificate = await client.get<MtlsCertificate>(path);
  return certificate ? pkcs12SecretOf(certificate) : pkcs12SecretName(name);
}

/** The objects of a plan that exist already, as `kind namespace/name` for a message. */
export async function existingObjects(client: KubeClient, plan: UploadPlan): Promise<string[]> {
  const [certificate, secret] = await Promise.all([
    client.get(objectPath(RESOURCES.certificates, plan.namespace, plan.name)),
    client.get(objectPath(RESOURCES.secrets, plan.namespace, plan.secretName)),
  ]);
  return [
    ...(certificate ? [`MtlsCertificate ${plan.namespace}/${plan.name}`] : []),
    ...(secret ? [`Secret ${plan.namespace}/${plan.secretName}`] : []),
  ];
}

/**
 * True when the plan's Secret exists and neither kubectl-mtls nor the gateway made it. Such a
 * Secret is not overwritten, as the gateway refuses to: relabelled and owned by the certificate,
 * it would be deleted with the certificate, though it belongs to someone else.
 */
export async function isForeignSecret(client: KubeClient, plan: UploadPlan): Promise<boolean> {
  const secretPath = objectPath(RESOURCES.secrets, plan.namespace, plan.secretName);
  const secret = await client.get<SecretObject>(secretPath);
  return secret !== undefined && !isWrittenByProject(secret);
}

/**
 * Writes the Secret (file and password), then the MtlsCertificate that refers to it, creating
 * each or updating it in place. The Secret comes first so that the operator finds it on its
 * first look; if the certificate cannot be created, a Secret created here is removed again.
 * Finally the certificate becomes the Secret's owner, so that deleting it removes the Secret.
 */
export async function writeCertificate(
  client: KubeClient,
  plan: UploadPlan,
): Promise<{ secret: WriteAction; certificate: WriteAction }> {
  const secretPath = objectPath(RESOURCES.secrets, plan.namespace, plan.secretName);
  const certificatePath = objectPath(RESOURCES.certificates, plan.namespace, plan.name);

  const secret = await upsert(client, secretPath, secretBody(plan), () =>
    client.create(collectionPath(RESOURCES.secrets, plan.namespace), {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      ...secretBody(plan),
    }),
  );

  let certificate: WriteAction;
  try {
    const patch = certificateBody(plan, { pem: null, vault: null });
    certificate = await upsert(client, certificatePath, patch, () =>
      client.create(collectionPath(RESOURCES.certificates, plan.namespace), {
        apiVersion: API_VERSION,
        kind: 'MtlsCertificate',
        ...certificateBody(plan, {}),
      }),
    );
  } catch (err) {
    if (secret === 'created') await client.delete(secretPath);
    throw err;
  }

  await adoptSecret(client, secretPath, certificatePath);
  return { secret, certificate };
}

// Updates with a merge patch when the object exists, else creates it.
async function upsert(
  client: KubeClient,
  path: string,
  patch: object,
  create: () => Promise<unknown>,
): Promise<WriteAction> {
  if (await client.get(path)) {
    await client.patch(path, patch);
    return 'configured';
  }
  await create();
  return 'created';
}

function secretBody(plan: UploadPlan) {
  return {
    metadata: {
      name: plan.secretName,
      labels: { [MANAGED_BY_LABEL]: SecretWriter.kubectlPlugin, 'mtls.io/certificate': plan.name },
    },
    data: {
      [PKCS12_FILE_KEY]: plan.file.toString('base64'),
      [PKCS12_PASSWORD_KEY]: Buffer.from(plan.password, 'utf8').toString('base64'),
    },
  };
}

// A merge patch nulls the other sources, so that one over a pem or vault source leaves one.
function certificateBody(plan: UploadPlan, otherSources: { pem?: null; vault?: null }) {
  return {
    metadata: {
      name: plan.name,
      ...(plan.displayName ? { annotations: { [DISPLAY_NAME_ANNOTATION]: plan.displayName } } : {}),
    },
    spec: {
      source: {
        pkcs12: {
          secretName: plan.secretName,
          fileKey: PKCS12_FILE_KEY,
          passwordKey: PKCS12_PASSWORD_KEY,
        },
        ...otherSources,
      },
      ...(plan.trustedCaConfigMap ? { trustedCA: { configMapName: plan.trustedCaConfigMap } } : {}),
    },
  };
}

async function adoptSecret(client: KubeClient, secretPath: string, certificatePath: string) {
  const certificate = await client.request<MtlsCertificate>('GET', certificatePath);
  const secret = await client.request<SecretObject>('GET', secretPath);
  const owners = secret.metadata.ownerReferences ?? [];
  if (owners.some((owner) => owner.uid === certificate.metadata.uid)) return;

  const owner: OwnerReference = {
    apiVersion: API_VERSION,
    kind: 'MtlsCertificate',
    name: certificate.metadata.name,
    uid: certificate.metadata.uid!,
  };
  await client.patch(secretPath, { metadata: { ownerReferences: [...owners, owner] } });
}
