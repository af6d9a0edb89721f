import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { issueWithDates, useCorpusPki } from '../fixtures/certificate-corpus';
import {
  exportPkcs12,
  forgePkcs12,
  P12_PASSWORD,
  P12_PROTECTIONS,
} from '../fixtures/pkcs12-corpus';
import { isConflict } from '../../core/kube/kube-client';
import { CERTIFICATE_FINALIZER, type MtlsCertificate } from '../../core/resources/types';
import type { RunningOperator } from '../../operator/operator';
import { Cluster } from '../../operator/resources/cluster';
import { adminKubeClient, kubectl, uniqueName } from './ground';
import { eventualValue } from './eventually';
import { applyCrds, adminVault, readKv, Resources, runOperator } from './operator-harness';

// The certificate controller against the real apiserver and OpenBao: what a user sees on the
// MtlsCertificate and what lands in Vault.

const pki = useCorpusPki();
let operator: RunningOperator;
const resources = new Resources(uniqueName('certs'));

function p12(leaf = pki.leaf, protection: keyof typeof P12_PROTECTIONS = 'modern') {
  return exportPkcs12(pki.dir, leaf, [pki.intermediate, pki.root], P12_PROTECTIONS[protection])
    .bytes;
}

async function p12Certificate(name: string, file: Buffer, password = P12_PASSWORD) {
  await resources.putSecret(name, { 'keystore.p12': file, password });
  await resources.createCertificate(name, { source: { pkcs12: { secretName: name } } });
}

beforeAll(async () => {
  applyCrds();
  await resources.createNamespace();
  operator = await runOperator();
}, 120_000);

afterAll(async () => {
  await operator.stop();
});

describe('an MtlsCertificate', () => {
  it.each(['modern', 'legacyRc2', 'legacy3des'] as const)(
    'from a %s PKCS#12 Secret is normalized into Vault and described on status',
    async (protection) => {
      const name = `p12-${protection.toLowerCase()}`;
      await p12Certificate(name, p12(pki.leaf, protection));

      const ready = await resources.waitForReason('certificate', name, 'Synced');
      const stored = await readKv(`mtls/${resources.namespace}/certificates/${name}`);
      expect(stored?.data.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect((stored?.data.chainPem as string).match(/BEGIN CERTIFICATE/g)).toHaveLength(3);
      expect(ready.status).toMatchObject({
        subject: expect.stringContaining('CN=leaf'),
        keyAlgorithm: 'RSA',
        keySize: 2048,
        fingerprintSha256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
        vaultPath: `mtls/${resources.namespace}/certificates/${name}`,
        vaultVersion: 1,
        javaCompatibility: expect.any(String),
      });
      expect(JSON.stringify(ready)).not.toMatch(/PRIVATE KEY|corpus-Pass/);
    },
  );

  it('from a kubernetes.io/tls Secret is stored, its ca.crt completing the chain', async () => {
    await resources.putSecret(
      'pem',
      {
        'tls.crt': pki.ecLeaf.certPem,
        'tls.key': pki.ecLeaf.keyPem,
        'ca.crt': pki.intermediate.certPem,
      },
      'kubernetes.io/tls',
    );
    await resources.createCertificate('pem', { source: { pem: { secretName: 'pem' } } });

    const ready = await resources.waitForReason('certificate', 'pem', 'Synced');
    expect(ready.status).toMatchObject({ keyAlgorithm: 'EC', keySize: 256 });
    const stored = await readKv(`mtls/${resources.namespace}/certificates/pem`);
    expect((stored?.data.chainPem as string).match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('gets a new Vault version when its Secret changes, none when nothing did', async () => {
    await p12Certificate('rotating', p12(pki.leaf));
    await resources.waitForReason('certificate', 'rotating', 'Synced');
    const path = `mtls/${resources.namespace}/certificates/rotating`;
    const first = await readKv(path);

    await resources.putSecret('rotating', {
      'keystore.p12': p12(pki.ecLeaf),
      password: P12_PASSWORD,
    });

    const rotated = await eventualValue(async () => {
      const object = await resources.certificate('rotating');
      return object?.status?.vaultVersion === 2 ? object : undefined;
    }, 'vault version 2');
    expect(rotated.status?.keyAlgorithm).toBe('EC');
    const second = await readKv(path);
    expect(second?.data.chainPem).not.toBe(first?.data.chainPem);

    // The same content again (a new PKCS#12 of the same key and chain) writes nothing.
    await resources.putSecret('rotating', {
      'keystore.p12': p12(pki.ecLeaf),
      password: P12_PASSWORD,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await readKv(path))?.version).toBe(2);
  });

  it('is removed from Vault when deleted, and only then goes away', async () => {
    await p12Certificate('doomed', p12());
    await resources.waitForReason('certificate', 'doomed', 'Synced');
    const path = `mtls/${resources.namespace}/certificates/doomed`;
    expect(await readKv(path)).toBeDefined();

    await resources.delete('mtlscertificates', 'doomed');

    await eventualValue(
      async () => ((await resources.certificate('doomed')) ? undefined : true),
      'gone',
    );
    expect(await readKv(path)).toBeUndefined();
  });

  it('keeps a finalizer that a write from a stale copy would have removed', async () => {
    await p12Certificate('contested', p12());
    const stale = (await resources.waitForReason(
      'certificate',
      'contested',
      'Synced',
    )) as MtlsCertificate;
    await resources.label('mtlscertificates', 'contested', { touched: 'yes' });
    const client = adminKubeClient();

    const refused = await new Cluster(client)
      .setCertificateFinalizers(stale, [])
      .catch((err: unknown) => err);
    client.close();

    expect(isConflict(refused)).toBe(true);
    expect((await resources.certificate('contested'))?.metadata.finalizers).toEqual([
      CERTIFICATE_FINALIZER,
    ]);
  });

  it('adopts an existing Vault path without writing or deleting it', async () => {
    const path = `teams/${resources.namespace}/psd2`;
    await adminVault().write(`secret/data/${path}`, {
      data: {
        certificate: pki.leaf.certPem + pki.intermediate.certPem,
        private_key: pki.leaf.keyPem,
      },
    });
    await resources.createCertificate('adopted', { source: { vault: { path } } });

    const ready = await resources.waitForReason('certificate', 'adopted', 'Synced');
    expect(ready.status).toMatchObject({ vaultPath: path, vaultVersion: 1 });
    expect(await readKv(`mtls/${resources.namespace}/certificates/adopted`)).toBeUndefined();

    await resources.delete('mtlscertificates', 'adopted');
    await eventualValue(
      async () => ((await resources.certificate('adopted')) ? undefined : true),
      'gone',
    );
    expect((await readKv(path))?.version).toBe(1);
  });

  it('removes its stored copy when its source moves from a Secret to a Vault path', async () => {
    await p12Certificate('moved', p12());
    await resources.waitForReason('certificate', 'moved', 'Synced');
    const own = `mtls/${resources.namespace}/certificates/moved`;
    expect(await readKv(own)).toBeDefined();
    const adopted = `teams/${resources.namespace}/moved`;
    await adminVault().write(`secret/data/${adopted}`, {
      data: { chainPem: pki.ecLeaf.certPem, privateKeyPem: pki.ecLeaf.keyPem },
    });

    await resources.patchSpec('mtlscertificates', 'moved', {
      source: { pkcs12: null, vault: { path: adopted } },
    });

    await eventualValue(async () => {
      const object = await resources.certificate('moved');
      return object?.status?.vaultPath === adopted ? object : undefined;
    }, 'the adopted path served');
    expect(await readKv(own)).toBeUndefined();
    expect((await readKv(adopted))?.version).toBe(1);
  });

  it("may not adopt another namespace's certificate, by any spelling of its path", async () => {
    const theirs = `mtls/${uniqueName('other')}/certificates/partner`;
    await adminVault().write(`secret/data/${theirs}`, {
      data: { chainPem: pki.leaf.certPem, privateKeyPem: pki.leaf.keyPem },
    });
    await resources.createCertificate('borrowed', { source: { vault: { path: theirs } } });

    const refused = await resources.waitForReason('certificate', 'borrowed', 'VaultPathForbidden');
    expect(refused.status?.conditions?.[0].message).toContain(`'${theirs}'`);
    expect((refused as MtlsCertificate).status?.vaultPath).toBeUndefined();

    const sneaky = resources
      .createCertificate('sneaky', { source: { vault: { path: `teams/../${theirs}` } } })
      .then(
        () => 'accepted',
        (err: unknown) => String(err),
      );
    expect(await sneaky).toContain("must not have '.' or '..' segments");
  });

  it('with retainPolicy Retain keeps its Vault copy when deleted', async () => {
    await resources.putSecret('kept', { 'keystore.p12': p12(), password: P12_PASSWORD });
    await resources.createCertificate('kept', {
      source: { pkcs12: { secretName: 'kept' } },
      retainPolicy: 'Retain',
    });
    await resources.waitForReason('certificate', 'kept', 'Synced');
    const path = `mtls/${resources.namespace}/certificates/kept`;
    const stored = await readKv(path);

    await resources.delete('mtlscertificates', 'kept');

    await eventualValue(
      async () => ((await resources.certificate('kept')) ? undefined : true),
      'gone',
    );
    expect(stored).toBeDefined();
    expect(await readKv(path)).toEqual(stored);
  });

  it('that expires within the warning window is Ready, with one ExpiringSoon warning', async () => {
    const day = 24 * 3600 * 1000;
    const soon = issueWithDates(
      pki.dir,
      'soon-leaf',
      pki.leaf.keyPath,
      pki.intermediate,
      new Date(Date.now() - day),
      new Date(Date.now() + 10 * day),
    );
    await resources.putSecret(
      'soon',
      { 'tls.crt': soon.certPem, 'tls.key': soon.keyPem, 'ca.crt': pki.intermediate.certPem },
      'kubernetes.io/tls',
    );
    await resources.createCertificate('soon', { source: { pem: { secretName: 'soon' } } });

    const warned = await resources.waitForReason('certificate', 'soon', 'ExpiringSoon');
    const ready = warned.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready.status).toBe('True');
    expect(ready.message).toContain('version 1');
    expect(warned.status).toMatchObject({ vaultVersion: 1 });

    // Another reconcile of the same version (here for an edit of the spec) warns no more.
    await resources.patchSpec('mtlscertificates', 'soon', { retainPolicy: 'Retain' });
    await eventualValue(async () => {
      const object = await resources.certificate('soon');
      return object?.status?.observedGeneration === 2 ? object : undefined;
    }, 'generation 2 observed');
    const events = await resources.events('soon');
    expect(events.map((event) => `${event.type} ${event.reason}`)).toEqual([
      'Warning ExpiringSoon',
    ]);
  });

  it.each([
    ['no source', {}],
    ['two sources', { pkcs12: { secretName: 'a' }, pem: { secretName: 'b' } }],
  ])('with %s is refused by the apiserver', (_label, source) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mtls-cel-'));
    const file = path.join(dir, 'certificate.json');
    const object = {
      apiVersion: 'mtls.io/v1alpha1',
      kind: 'MtlsCertificate',
      metadata: { name: 'sources', namespace: resources.namespace },
      spec: { source },
    };
    writeFileSync(file, JSON.stringify(object));

    let refusal = '';
    try {
      kubectl('apply', '-f', file);
    } catch (err) {
      refusal = String((err as { stderr?: string }).stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(refusal).toContain('exactly one of source.pkcs12, source.pem or source.vault');
  });

  it('that points at a missing Vault path says so', async () => {
    await resources.createCertificate('no-path', { source: { vault: { path: 'nothing/here' } } });
    const object = await resources.waitForReason('certificate', 'no-path', 'VaultPathNotFound');
    expect(object.status?.conditions?.[0].message).toContain("'nothing/here'");
  });
});

describe('a deletion that Vault refuses', () => {
  // An operator whose Vault token may write but not delete, in place of the usual one.
  async function operatorThatCannotDelete(): Promise<RunningOperator> {
    const vault = adminVault();
    const policy = 'mtls-operator-no-delete';
    await vault.write(`sys/policies/acl/${policy}`, {
      policy: [
        'path "secret/data/*" { capabilities = ["create", "read", "update", "list"] }',
        'path "secret/metadata/*" { capabilities = ["read", "list"] }',
      ].join('\n'),
    });
    const created = await vault.write('auth/token/create', { policies: [policy], ttl: '10m' });
    return runOperator({ vaultToken: created.auth.client_token as string });
  }

  it('says why on status and in an Event, and keeps the finalizer until it can', async () => {
    await p12Certificate('stuck', p12());
    await resources.waitForReason('certificate', 'stuck', 'Synced');
    const path = `mtls/${resources.namespace}/certificates/stuck`;
    await operator.stop();
    operator = await operatorThatCannotDelete();

    await resources.delete('mtlscertificates', 'stuck');

    const refused = await resources.waitForReason('certificate', 'stuck', 'VaultForbidden');
    const ready = refused.status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready.message).toContain(`the copy at secret/${path} could not be removed`);
    expect(ready.message).toContain('HTTP 403');
    expect(refused.metadata.finalizers).toEqual([CERTIFICATE_FINALIZER]);
    const events = await resources.events('stuck');
    expect(events.map((event) => `${event.type} ${event.reason}`)).toContain(
      'Warning VaultForbidden',
    );
    expect(await readKv(path)).toBeDefined();

    await operator.stop();
    operator = await runOperator();
    await eventualValue(
      async () => ((await resources.certificate('stuck')) ? undefined : true),
      'gone',
    );
    expect(await readKv(path)).toBeUndefined();
  });
});

describe('bad input', () => {
  type BadInput = [string, () => Record<string, Buffer | string>, string, RegExp, string[]];
  const cases: BadInput[] = [
    [
      'wrong password',
      () => ({ 'keystore.p12': p12(), password: 'nope' }),
      'WrongPassword',
      /password/i,
      ['P12_BAD_PASSWORD'],
    ],
    [
      'truncated DER',
      () => ({ 'keystore.p12': p12().subarray(0, 300), password: P12_PASSWORD }),
      'MalformedPkcs12',
      /PKCS#12/,
      ['P12_MALFORMED'],
    ],
    [
      'random bytes',
      () => ({ 'keystore.p12': randomBytes(2048), password: P12_PASSWORD }),
      'MalformedPkcs12',
      /PKCS#12/,
      ['P12_MALFORMED'],
    ],
    [
      'RSA-1024',
      () => ({ 'keystore.p12': p12(pki.weakLeaf), password: P12_PASSWORD }),
      'WeakKey',
      /1024/,
      ['KEY_TOO_WEAK'],
    ],
    [
      'expired',
      () => ({ 'keystore.p12': p12(pki.expiredLeaf), password: P12_PASSWORD }),
      'Expired',
      /2020/,
      ['CERT_EXPIRED'],
    ],
    [
      'not yet valid',
      () => ({ 'keystore.p12': p12(pki.futureLeaf), password: P12_PASSWORD }),
      'NotYetValid',
      /2099/,
      ['CERT_NOT_YET_VALID'],
    ],
    [
      'missing Secret key',
      () => ({ 'keystore.p12': p12() }),
      'SecretKeyNotFound',
      /'password'/,
      [],
    ],
    [
      'oversized file',
      () => ({ 'keystore.p12': randomBytes(200 * 1024), password: P12_PASSWORD }),
      'TooLarge',
      /too large|limit|KiB/i,
      ['INPUT_TOO_LARGE'],
    ],
    [
      'two keys in one P12',
      () => ({
        'keystore.p12': forgePkcs12([pki.leaf.certPem], [pki.leaf.keyPem, pki.otherKeyPem]),
        password: P12_PASSWORD,
      }),
      'MultipleKeys',
      /2 private keys/,
      ['KEY_MULTIPLE'],
    ],
  ];

  it.each(cases)(
    '%s: not Ready with its own reason, and what was stored stays intact',
    async (label, data, reason, message, problems) => {
      const name = label.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      await p12Certificate(name, p12());
      await resources.waitForReason('certificate', name, 'Synced');
      const path = `mtls/${resources.namespace}/certificates/${name}`;
      const good = await readKv(path);

      await resources.putSecret(name, data());

      const refused = (await resources.waitForReason(
        'certificate',
        name,
        reason,
      )) as MtlsCertificate;
      const ready = refused.status!.conditions!.find((c) => c.type === 'Ready')!;
      expect(ready.status).toBe('False');
      expect(ready.message).toMatch(message);
      expect(ready.message).toContain('the last good version 1');
      expect(refused.status).toMatchObject({ vaultPath: path, vaultVersion: 1, keySize: 2048 });
      expect(refused.status?.problems ?? []).toEqual(problems);
      expect(await readKv(path)).toEqual(good);

      // The refusal is no dead end: the good file again is Synced, and nothing new is written.
      await resources.putSecret(name, { 'keystore.p12': p12(), password: P12_PASSWORD });
      const recovered = (await resources.waitForReason(
        'certificate',
        name,
        'Synced',
      )) as MtlsCertificate;
      expect(recovered.status).toMatchObject({ vaultVersion: 1 });
      expect(recovered.status?.problems).toBeUndefined();
      expect(await readKv(path)).toEqual(good);
    },
  );

  it('a PEM key that does not match its certificate, keeping the stored version', async () => {
    await resources.putSecret(
      'mismatch',
      { 'tls.crt': pki.leaf.certPem, 'tls.key': pki.leaf.keyPem },
      'kubernetes.io/tls',
    );
    await resources.createCertificate('mismatch', { source: { pem: { secretName: 'mismatch' } } });
    await resources.waitForReason('certificate', 'mismatch', 'Synced');
    const path = `mtls/${resources.namespace}/certificates/mismatch`;
    const good = await readKv(path);

    await resources.putSecret(
      'mismatch',
      { 'tls.crt': pki.leaf.certPem, 'tls.key': pki.otherKeyPem },
      'kubernetes.io/tls',
    );

    const refused = await resources.waitForReason('certificate', 'mismatch', 'KeyMismatch');
    expect(refused.status?.conditions?.[0].message).toMatch(/does not belong to the certificate/);
    expect(refused.status).toMatchObject({ vaultVersion: 1, problems: ['CERT_KEY_MISMATCH'] });
    expect(await readKv(path)).toEqual(good);
  });

  it('a Secret that does not exist, which later appears', async () => {
    await resources.createCertificate('late', { source: { pkcs12: { secretName: 'late' } } });
    await resources.waitForReason('certificate', 'late', 'SecretNotFound');

    await resources.putSecret('late', { 'keystore.p12': p12(), password: P12_PASSWORD });

    await resources.waitForReason('certificate', 'late', 'Synced');
    // What `kubectl describe` shows: the refusal and the success (the same second, maybe).
    const events = await resources.events('late');
    expect(events.map((event) => `${event.type} ${event.reason}`).sort()).toEqual([
      'Normal Synced',
      'Warning SecretNotFound',
    ]);
    expect(events[0]).toMatchObject({
      involvedObject: { kind: 'MtlsCertificate', name: 'late', namespace: resources.namespace },
      source: { component: 'mtls-operator' },
    });
  });
});
