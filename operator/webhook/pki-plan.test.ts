import { X509Certificate } from 'node:crypto';

import { planPki, type PkiChange, type PkiTiming, type WebhookPki } from './pki-plan';
import {
  coversNames,
  createWebhookCa,
  issueServingCertificate,
  keyMatches,
  servingNames,
} from './webhook-pki';

const DAY = 86_400_000;
const timing: PkiTiming = {
  caValidityMs: 30 * DAY,
  servingValidityMs: 9 * DAY,
  backdateMs: 60_000,
  propagationDelayMs: 3_600_000,
};
const names = servingNames('mtls-operator-webhook', 'mtls-system', 'https://127.0.0.1:9443/x');
const start = new Date('2030-01-01T00:00:00Z');
const at = (ms: number) => new Date(start.getTime() + ms);
const trustAll = () => true;

function plan(current: WebhookPki | undefined, now: Date, isTrusted = trustAll, n = names) {
  return planPki({ current, names: n, now, timing, isTrusted });
}

async function changed(pending: Promise<PkiChange | undefined>): Promise<PkiChange> {
  const change = await pending;
  if (!change) throw new Error('expected a change');
  return change;
}

const cert = (pem: string) => new X509Certificate(pem);
const signedBy = (leafPem: string, caPem: string) => cert(leafPem).verify(cert(caPem).publicKey);

describe('planPki', () => {
  let created: PkiChange;
  beforeAll(async () => {
    created = await changed(plan(undefined, start));
  });

  it('creates a CA and a serving certificate for every name of the webhook', async () => {
    expect(created.reasons).toEqual(['created']);
    const { pki } = created;
    expect(pki.caCertsPem).toHaveLength(1);
    expect(cert(pki.caCertsPem[0]).ca).toBe(true);
    expect(signedBy(pki.servingCertPem, pki.caCertsPem[0])).toBe(true);
    expect(keyMatches(cert(pki.servingCertPem), pki.servingKeyPem)).toBe(true);
    expect(keyMatches(cert(pki.caCertsPem[0]), pki.caKeyPem)).toBe(true);
    expect(coversNames(cert(pki.servingCertPem), names)).toBe(true);
    expect(cert(pki.servingCertPem).subjectAltName).toBe(
      'DNS:mtls-operator-webhook, DNS:mtls-operator-webhook.mtls-system, ' +
        'DNS:mtls-operator-webhook.mtls-system.svc, ' +
        'DNS:mtls-operator-webhook.mtls-system.svc.cluster.local, IP Address:127.0.0.1',
    );
    expect(new Date(cert(pki.servingCertPem).validTo)).toEqual(at(9 * DAY));
    expect(new Date(cert(pki.servingCertPem).validFrom)).toEqual(at(-60_000));
  });

  it('changes nothing while the certificates are young', async () => {
    expect(await plan(created.pki, at(5 * DAY))).toBeUndefined();
  });

  it('renews the serving certificate at two thirds of its life, under the same CA', async () => {
    const renewed = await changed(plan(created.pki, at(6 * DAY + 1000)));
    expect(renewed.reasons).toEqual(['renewed the serving certificate']);
    expect(renewed.pki.caCertsPem).toEqual(created.pki.caCertsPem);
    expect(renewed.pki.caKeyPem).toBe(created.pki.caKeyPem);
    expect(renewed.pki.servingCertPem).not.toBe(created.pki.servingCertPem);
    expect(signedBy(renewed.pki.servingCertPem, created.pki.caCertsPem[0])).toBe(true);
  });

  it('rotates the CA with no moment where the served certificate is untrusted', async () => {
    // Two thirds into the CA's life: a new CA joins the bundle.
    const serving = await issueServingCertificate(
      { keyPem: created.pki.caKeyPem, certPem: created.pki.caCertsPem[0] },
      names,
      { notBefore: at(19 * DAY), notAfter: at(28 * DAY) },
    );
    const before = {
      ...created.pki,
      servingCertPem: serving.certPem,
      servingKeyPem: serving.keyPem,
    };
    const rotated = await changed(plan(before, at(20 * DAY + 1000)));
    expect(rotated.reasons).toEqual(['rotated the CA']);
    const [fresh, old] = rotated.pki.caCertsPem;
    expect(old).toBe(created.pki.caCertsPem[0]);
    expect(fresh).not.toBe(old);
    // The old CA signed a last serving certificate, valid well past the propagation delay.
    expect(rotated.pki.servingCertPem).not.toBe(serving.certPem);
    expect(signedBy(rotated.pki.servingCertPem, old)).toBe(true);
    expect(new Date(cert(rotated.pki.servingCertPem).validTo)).toEqual(at(29 * DAY + 1000));

    // The new CA signs only once the configuration has trusted it for the propagation delay.
    const soon = at(20 * DAY + 1000 + timing.propagationDelayMs / 2);
    expect(await plan(rotated.pki, soon)).toBeUndefined();
    const later = at(20 * DAY + 1000 + timing.propagationDelayMs);
    expect(await plan(rotated.pki, later, () => false)).toBeUndefined();
    const moved = await changed(plan(rotated.pki, later));
    expect(moved.reasons).toEqual(['moved the serving certificate to the new CA']);
    expect(signedBy(moved.pki.servingCertPem, fresh)).toBe(true);
    expect(moved.pki.caCertsPem).toEqual([fresh, old]);

    // The old CA leaves the bundle when it expires.
    const dropped = await changed(plan(moved.pki, at(30 * DAY + 1000)));
    expect(dropped.reasons).toContain('dropped an expired CA');
    expect(dropped.pki.caCertsPem).toEqual([fresh]);
  });

  it('issues a new serving certificate when the names change', async () => {
    const more = servingNames('mtls-operator-webhook', 'mtls-system', 'https://webhook.example');
    const reissued = await changed(plan(created.pki, at(DAY), trustAll, more));
    expect(reissued.reasons).toEqual(['issued a serving certificate for new names']);
    expect(coversNames(cert(reissued.pki.servingCertPem), more)).toBe(true);
  });

  it('replaces what cannot be used', async () => {
    const otherCa = await createWebhookCa({ notBefore: start, notAfter: at(30 * DAY) });
    const strange = await issueServingCertificate(otherCa, names, {
      notBefore: start,
      notAfter: at(9 * DAY),
    });
    const foreign = {
      ...created.pki,
      servingCertPem: strange.certPem,
      servingKeyPem: strange.keyPem,
    };
    expect((await changed(plan(foreign, at(DAY)))).reasons).toEqual([
      'replaced a serving certificate no trusted CA signed',
    ]);

    const mismatched = { ...created.pki, servingKeyPem: otherCa.keyPem };
    expect((await changed(plan(mismatched, at(DAY)))).reasons).toEqual([
      'replaced an unreadable serving certificate or key',
    ]);

    const wrongCaKey = { ...created.pki, caKeyPem: otherCa.keyPem };
    expect((await changed(plan(wrongCaKey, at(DAY)))).reasons).toEqual([
      'replaced an unreadable CA or CA key',
    ]);
    expect((await changed(plan(created.pki, at(31 * DAY)))).reasons).toEqual([
      'replaced an expired CA',
    ]);
  });
});
