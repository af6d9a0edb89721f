import type { MappingIndexDocument } from '../../core/mapping/index-document';
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

  it('that is disabled, or whose certificate is not Ready, leaves the index', async () => {
    const resources = await namespaceWithCertificate();
    await resources.createMapping('off', {
      url: 'https://off.example/',
      certificateName: 'partner',
      enabled: false,
    });
    await resources.waitForReason('mapping', 'off', 'Disabled');
    await resources.createMapping('on', { url: 'https://on.example/', certificateName: 'partner' });
    await resources.waitForReason('mapping', 'on', 'Active');

    await resources.putSecret('partner', { 'keystore.p12': Buffer.from('garbage'), password: 'x' });

    const blocked = await resources.waitForReason('mapping', 'on', 'CertificateNotReady');
    expect(blocked.status?.conditions?.[0].message).toContain('PKCS#12');
    const index = await eventualValue(async () => {
      const current = await readIndex(resources.namespace);
      return current?.data.mappings.length === 0 ? current : undefined;
    }, 'an empty index');
    expect(index.data.mappings).toEqual([]);
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
