import { X509Certificate } from 'node:crypto';

import {
  coversNames,
  createWebhookCa,
  issueServingCertificate,
  keyMatches,
  validityOf,
  type KeyAndCertificate,
  type ServingNames,
  type Validity,
} from './webhook-pki';

/** The webhook's certificates as the Secret keeps them. */
export type WebhookPki = {
  /** The CAs the apiserver is to trust: the first signs; the others are older, still valid. */
  caCertsPem: string[];
  caKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
};

/** How long certificates live, and the margins of their rotation. */
export type PkiTiming = {
  caValidityMs: number;
  servingValidityMs: number;
  /** How far notBefore is put in the past, for clocks behind the operator's. */
  backdateMs: number;
  /** How long a new CA is trusted before it signs the certificate that is served. */
  propagationDelayMs: number;
};

const DAY_MS = 86_400_000;

/** Five years for the CA, ninety days for the serving certificate, each renewed at 2/3. */
export const DEFAULT_PKI_TIMING: PkiTiming = {
  caValidityMs: 5 * 365 * DAY_MS,
  servingValidityMs: 90 * DAY_MS,
  backdateMs: 3_600_000,
  propagationDelayMs: 120_000,
};

/** What the plan sees of the world. */
export type PkiPlanInput = {
  current: WebhookPki | undefined;
  names: ServingNames;
  now: Date;
  timing: PkiTiming;
  /** True when every webhook of the configuration already trusts this CA. */
  isTrusted: (caPem: string) => boolean;
};

/** A new state of the certificates and why it changed. */
export type PkiChange = { pki: WebhookPki; reasons: string[] };

/** When a certificate is renewed: two thirds into its life. */
export function renewalTime({ notBefore, notAfter }: Validity): Date {
  return new Date(notBefore.getTime() + ((notAfter.getTime() - notBefore.getTime()) * 2) / 3);
}

function parse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/**
 * Decides how the webhook's certificates change, or returns undefined when they are fine.
 *
 * The CA is replaced at two thirds of its life by a new one that joins the old in the bundle,
 * and the old one signs a last, fresh serving certificate; the serving certificate moves to the
 * new CA only once the webhook configuration has trusted it for the propagation delay, so the
 * apiserver never meets a certificate it cannot verify.
 * The serving certificate itself is renewed at two thirds of its life under the same CA, which
 * leaves the caBundle as it was.
 */
export async function planPki(input: PkiPlanInput): Promise<PkiChange | undefined> {
  const { current, names, now, timing } = input;
  const validity = (ms: number, cap?: Date): Validity => {
    const notAfter = new Date(Math.min(now.getTime() + ms, cap?.getTime() ?? Infinity));
    return { notBefore: new Date(now.getTime() - timing.backdateMs), notAfter };
  };
  const issue = (ca: KeyAndCertificate): Promise<KeyAndCertificate> => {
    const caEnd = validityOf(new X509Certificate(ca.certPem)).notAfter;
    return issueServingCertificate(ca, names, validity(timing.servingValidityMs, caEnd));
  };
  const fresh = async (reason: string): Promise<PkiChange> => {
    const ca = await createWebhookCa(validity(timing.caValidityMs));
    const serving = await issue(ca);
    const pki = {
      caCertsPem: [ca.certPem],
      caKeyPem: ca.keyPem,
      servingCertPem: serving.certPem,
      servingKeyPem: serving.keyPem,
    };
    return { pki, reasons: [reason] };
  };

  if (!current) return fresh('created');
  const signing = parse(current.caCertsPem[0] ?? '');
  if (!signing || !keyMatches(signing, current.caKeyPem)) {
    return fresh('replaced an unreadable CA or CA key');
  }
  if (now >= validityOf(signing).notAfter) return fresh('replaced an expired CA');

  const reasons: string[] = [];
  let pki: WebhookPki = { ...current, caCertsPem: [current.caCertsPem[0]] };
  for (const older of current.caCertsPem.slice(1)) {
    const cert = parse(older);
    if (cert && now < validityOf(cert).notAfter) pki.caCertsPem.push(older);
  }
  if (pki.caCertsPem.length < current.caCertsPem.length) reasons.push('dropped an expired CA');

  let signingCert = signing;
  if (now >= renewalTime(validityOf(signing))) {
    // The old CA signs one last serving certificate before its key is dropped: the certificate
    // served then lives on while the new CA propagates, however little was left of the last one.
    const bridge = await issue({ keyPem: pki.caKeyPem, certPem: pki.caCertsPem[0] });
    const ca = await createWebhookCa(validity(timing.caValidityMs));
    pki = {
      caCertsPem: [ca.certPem, ...pki.caCertsPem],
      caKeyPem: ca.keyPem,
      servingCertPem: bridge.certPem,
      servingKeyPem: bridge.keyPem,
    };
    signingCert = new X509Certificate(ca.certPem);
    reasons.push('rotated the CA');
  }

  const renewal = servingRenewal(pki, signingCert, input);
  if (renewal) {
    const serving = await issue({ keyPem: pki.caKeyPem, certPem: pki.caCertsPem[0] });
    pki = { ...pki, servingCertPem: serving.certPem, servingKeyPem: serving.keyPem };
    reasons.push(renewal);
  }
  return reasons.length > 0 ? { pki, reasons } : undefined;
}

// Why the serving certificate is to be issued again now, if it is.
function servingRenewal(
  pki: WebhookPki,
  signing: X509Certificate,
  { names, now, timing, isTrusted }: PkiPlanInput,
): string | undefined {
  const serving = parse(pki.servingCertPem);
  if (!serving || !keyMatches(serving, pki.servingKeyPem)) {
    return 'replaced an unreadable serving certificate or key';
  }
  const issuers = pki.caCertsPem.map(parse).filter((ca) => ca !== undefined);
  if (!issuers.some((ca) => serving.verify(ca.publicKey))) {
    return 'replaced a serving certificate no trusted CA signed';
  }
  const { notAfter } = validityOf(serving);
  if (now >= notAfter) return 'replaced an expired serving certificate';

  const bySigning = serving.verify(signing.publicKey);
  const trustedSince = validityOf(signing).notBefore.getTime() + timing.backdateMs;
  const signingReady =
    isTrusted(signing.toString()) && now.getTime() >= trustedSince + timing.propagationDelayMs;
  if (!bySigning && signingReady) return 'moved the serving certificate to the new CA';
  if (!bySigning) return undefined;

  if (now >= renewalTime(validityOf(serving))) return 'renewed the serving certificate';
  if (!coversNames(serving, names)) return 'issued a serving certificate for new names';
  return undefined;
}
