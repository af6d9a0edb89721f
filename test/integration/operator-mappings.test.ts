import type { MappingIndexDocument, StoredCertificate } from '../../core/mapping/index-document';
import type { RunningOperator } from '../../operator/operator';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { uniqueName } from './ground';
import { eventualValue } from './eventually';
import { applyCrds, readKv, Resources, runOperator } from './operator-harness';

// The namespace controller: mapping status, conflicts, and the index a sidecar reads.

const pki = useCorpusPki();
let operator: RunningOperator;

beforeAll(async () => {
  applyCrds();
  operator = await runOperator();
}, 120_000);

afterAll(async () => {
  await operator.stop();
});

async function namespaceWithCertificate(certificate = 'partner'): Promise<Resources> {
  const resources = new Resources(uniqueName('maps'));
  await resources.createNamespace();
  await addCertificate(resources, certificate);
  await resources.waitForReason('certificate', certificate, 'Synced');
  return resources;
}

async function addCertificate(resources: Resources, name: string) {
  const file = exportPkcs12(pki.dir, pki.leaf, [pki.intermediate], P12_PROTECTIONS.modern);
  await resources.putSecret(name, { 'keystore.p12': file.bytes, password: P12_PASSWORD });
  await resources.createCertificate(name, { source: { pkcs12: { secretName: name } } });
}

function readIndex(namespace: string) {
  return readKv<MappingIndexDocument>(`mtls/${namespace}/index`);
}

describe('an MtlsMapping', () => {
  it('becomes Active and appears in the namespace index with the certificate version', async () => {
    const resources = await namespaceWithCertificate();
    await resources.createMapping('api', {
      url: 'https://API.partner.example/v2/',
      certificateName: 'partner',
      workloadSelector: { matchLabels: { app: 'payments' } },
    });

    const active = await resources.waitForReason('mapping', 'api', 'Active');
    expect(active.status).toMatchObject({
      match: { scheme: 'https', host: 'api.partner.example', port: 443, pathPrefix: '/v2/' },
      certificateVersion: 1,
    });
    const index = await eventualValue(() => readIndex(resources.namespace), 'index');
    expect(index.data).toEqual({
      namespace: resources.namespace,
      mappings: [
        {
          name: 'api',
          match: { scheme: 'https', host: 'api.partner.example', port: 443, pathPrefix: '/v2/' },
          selector: { matchLabels: { app: 'payments' } },
          certificate: {
            name: 'partner',
            vaultVersion: 1,
            path: `mtls/${resources.namespace}/certificates/partner`,
          },
        },
      ],
    });
  });

  it('to a missing certificate waits, and is Active once the certificate appears', async () => {
    const resources = await namespaceWithCertificate();
    await resources.createMapping('early', {
      url: 'https://bank.example/',
      certificateName: 'later',
    });
    const waiting = await resources.waitForReason('mapping', 'early', 'CertificateNotFound');
    expect(waiting.status?.conditions?.[0].message).toContain("'later'");

    await addCertificate(resources, 'later');

    await resources.waitForReason('mapping', 'early', 'Active');
    const index = await eventualValue(() => readIndex(resources.namespace), 'index');
    expect(index.data.mappings.map((m) => m.name)).toEqual(['early']);
  });

  it('claiming a URL mapped for the same workloads is a Conflict naming the winner', async () => {
    const resources = await namespaceWithCertificate();
    await resources.createMapping('first', {
      url: 'https://bank.example/',
      certificateName: 'partner',
    });
    await resources.waitForReason('mapping', 'first', 'Active');
    await resources.createMapping('second', {
      url: 'https://BANK.example:443/',
      certificateName: 'partner',
    });
    await resources.createMapping('other-workload', {
      url: 'https://bank.example/',
      certificateName: 'partner',
      workloadSelector: { matchLabels: { app: 'other' } },
    });

    const loser = await resources.waitForReason('mapping', 'second', 'Conflict');
    expect(loser.status?.conditions?.[0].message).toContain("'first'");
    await resources.waitForReason('mapping', 'other-workload', 'Active');
    const index = await eventualValue(async () => {
      const current = await readIndex(resources.namespace);
      return current?.data.mappings.length === 2 ? current : undefined;
    }, 'two mappings in the index');
    expect(index.data.mappings.map((m) => m.name).sort()).toEqual(['first', 'other-workload']);

    // When the winner goes, the next oldest takes its place.
    await resources.delete('mtlsmappings', 'first');
    await resources.waitForReason('mapping', 'second', 'Active');
  });

  it('that is disabled, or whose certificate never synced, stays out of the index', async () => {
    const resources = await namespaceWithCertificate();
    await resources.createMapping('off', {
      url: 'https://off.example/',
      certificateName: 'partner',
      enabled: false,
    });
    await resources.waitForReason('mapping', 'off', 'Disabled');
    await resources.putSecret('broken', { 'keystore.p12': Buffer.from('garbage'), password: 'x' });
    await resources.createCertificate('broken', { source: { pkcs12: { secretName: 'broken' } } });
    await resources.waitForReason('certificate', 'broken', 'MalformedPkcs12');
    await resources.createMapping('never', {
      url: 'https://never.example/',
      certificateName: 'broken',
    });

    const blocked = await resources.waitForReason('mapping', 'never', 'CertificateNotReady');
    expect(blocked.status?.conditions?.[0].message).toContain('PKCS#12');
    await resources.createMapping('on', { url: 'https://on.example/', certificateName: 'partner' });
    await resources.waitForReason('mapping', 'on', 'Active');
    const index = await eventualValue(() => readIndex(resources.namespace), 'index');
    expect(index.data.mappings.map((m) => m.name)).toEqual(['on']);
  });

  it('keeps the last good certificate version while a rotation is refused', async () => {
    const resources = await namespaceWithCertificate();
    await resources.createMapping('api', {
      url: 'https://api.example/',
      certificateName: 'partner',
    });
    await resources.waitForReason('mapping', 'api', 'Active');
    const bundlePath = `mtls/${resources.namespace}/certificates/partner`;
    const good = await readKv<StoredCertificate>(bundlePath);
    const before = await eventualValue(() => readIndex(resources.namespace), 'index');
    expect(before.data.mappings[0].certificate.vaultVersion).toBe(1);

    const file = exportPkcs12(pki.dir, pki.ecLeaf, [pki.intermediate], P12_PROTECTIONS.modern);
    await resources.putSecret('partner', { 'keystore.p12': file.bytes, password: 'wrong' });

    const refused = await resources.waitForReason('certificate', 'partner', 'WrongPassword');
    const ready = refused.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready.status).toBe('False');
    expect(ready.message).toMatch(/password/i);
    expect(ready.message).toContain('the last good version 1');
    expect(refused.status).toMatchObject({
      vaultPath: bundlePath,
      vaultVersion: 1,
      keyAlgorithm: 'RSA',
      notAfter: good!.data.metadata.notAfter,
      fingerprintSha256: good!.data.metadata.fingerprintSha256,
    });
    const kept = await eventualValue(async () => {
      const mapping = await resources.mapping('api');
      return mapping?.status?.conditions?.[0].message.includes('last good') ? mapping : undefined;
    }, 'the mapping to name the last good version');
    expect(kept.status?.conditions?.[0]).toMatchObject({ status: 'True', reason: 'Active' });
    expect(kept.status?.certificateVersion).toBe(1);
    expect(await readIndex(resources.namespace)).toEqual(before);
    expect(await readKv(bundlePath)).toEqual(good);

    // A good new source is stored, and the index moves to it.
    await resources.putSecret('partner', { 'keystore.p12': file.bytes, password: P12_PASSWORD });
    const rotated = await eventualValue(async () => {
      const current = await readIndex(resources.namespace);
      return current?.data.mappings[0]?.certificate.vaultVersion === 2 ? current : undefined;
    }, 'the index at version 2');
    expect(rotated.data.mappings.map((m) => m.name)).toEqual(['api']);
    expect((await resources.certificate('partner'))?.status?.keyAlgorithm).toBe('EC');

    // Without its Secret the certificate is not Ready, and version 2 is still served.
    await resources.deleteSecret('partner');
    const orphaned = await resources.waitForReason('certificate', 'partner', 'SecretNotFound');
    expect(orphaned.status).toMatchObject({ vaultVersion: 2, keyAlgorithm: 'EC' });
    expect((await readIndex(resources.namespace))?.data).toEqual(rotated.data);
  });

  it('whose trusted CA is missing becomes Active once the ConfigMap appears', async () => {
    const resources = new Resources(uniqueName('maps'));
    await resources.createNamespace();
    const file = exportPkcs12(pki.dir, pki.leaf, [pki.intermediate], P12_PROTECTIONS.modern);
    await resources.putSecret('partner', { 'keystore.p12': file.bytes, password: P12_PASSWORD });
    await resources.createCertificate('partner', {
      source: { pkcs12: { secretName: 'partner' } },
      trustedCA: { configMapName: 'partner-ca' },
    });
    await resources.createMapping('api', {
      url: 'https://api.example/',
      certificateName: 'partner',
    });
    await resources.waitForReason('mapping', 'api', 'TrustedCANotFound');

    // Nothing about the mapping or the certificate changes: only a later look can see the CA.
    await resources.putConfigMap('partner-ca', { 'ca.crt': pki.root.certPem });

    await eventualValue(
      async () => {
        const mapping = await resources.mapping('api');
        return mapping?.status?.conditions?.[0].reason === 'Active' ? mapping : undefined;
      },
      'the mapping to be Active',
      60_000,
    );
    const index = await eventualValue(() => readIndex(resources.namespace), 'index');
    expect(index.data.mappings[0].trustedCaPem).toBe(pki.root.certPem);
  });

  it('with live validation fails with the transport error of an unreachable host', async () => {
    const resources = await namespaceWithCertificate();
    await resources.createMapping('live', {
      url: 'https://127.0.0.1:9/',
      certificateName: 'partner',
      liveValidation: true,
    });
    const failed = await resources.waitForReason('mapping', 'live', 'ValidationFailed');
    expect(failed.status?.conditions?.[0].message).toMatch(/127\.0\.0\.1:9.*ECONNREFUSED/);
  });
});
