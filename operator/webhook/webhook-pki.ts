import { createPrivateKey, generateKeyPair, randomBytes, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { isIP } from 'node:net';

import forge from 'node-forge';

/** A private key and its certificate, in PEM. */
export type KeyAndCertificate = { keyPem: string; certPem: string };

/** The names a serving certificate must carry. */
export type ServingNames = { dns: string[]; ips: string[] };

/** When a certificate starts and ends. */
export type Validity = { notBefore: Date; notAfter: Date };

const generateRsa = promisify(generateKeyPair);

async function newRsaKey(): Promise<{ keyPem: string; publicPem: string }> {
  // Node makes the key, natively and off the event loop, so admissions do not wait on it;
  // node-forge only builds and signs the certificate.
  const { privateKey, publicKey } = await generateRsa('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { keyPem: privateKey, publicPem: publicKey };
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01; // positive and without a leading zero byte
  return bytes.toString('hex');
}

function signed(
  subject: string,
  publicPem: string,
  validity: Validity,
  extensions: object[],
  issuer?: { cert: forge.pki.Certificate; keyPem: string },
  ownKeyPem?: string,
): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = validity.notBefore;
  cert.validity.notAfter = validity.notAfter;
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setIssuer(
    issuer ? issuer.cert.subject.attributes : [{ name: 'commonName', value: subject }],
  );
  cert.setExtensions(extensions);
  const signingKey = issuer?.keyPem ?? ownKeyPem!;
  cert.sign(forge.pki.privateKeyFromPem(signingKey), forge.md.sha256.create());
  // node-forge ends PEM lines with CRLF; the Secret and the caBundle keep plain newlines.
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

/**
 * A new self-signed CA for the webhook. Its name carries its start time, so that the old and
 * the new CA of a rotation are told apart in the caBundle and in logs.
 */
export async function createWebhookCa(validity: Validity): Promise<KeyAndCertificate> {
  const { keyPem, publicPem } = await newRsaKey();
  const subject = `mtls-operator-webhook-ca-${Math.floor(validity.notBefore.getTime() / 1000)}`;
  const certPem = signed(
    subject,
    publicPem,
    validity,
    [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
    undefined,
    keyPem,
  );
  return { keyPem, certPem };
}

/** A serving certificate for the names, signed by the CA. */
export async function issueServingCertificate(
  ca: KeyAndCertificate,
  names: ServingNames,
  validity: Validity,
): Promise<KeyAndCertificate> {
  const { keyPem, publicPem } = await newRsaKey();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const altNames = [
    ...names.dns.map((value) => ({ type: 2, value })),
    ...names.ips.map((ip) => ({ type: 7, ip })),
  ];
  const certPem = signed(
    names.dns[0] ?? names.ips[0],
    publicPem,
    validity,
    [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
      {
        name: 'authorityKeyIdentifier',
        keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes(),
      },
    ],
    { cert: caCert, keyPem: ca.keyPem },
  );
  return { keyPem, certPem };
}

/** The names of a webhook served behind a Service, and the host of its URL when it has one. */
export function servingNames(service: string, namespace: string, url: string): ServingNames {
  const dns = [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
  const ips: string[] = [];
  if (url) {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host)) ips.push(host);
    else if (!dns.includes(host)) dns.push(host);
  }
  return { dns, ips };
}

/** The PEM blocks of a bundle, each ending in a newline. */
export function splitPem(bundle: string): string[] {
  const blocks = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  return (blocks ?? []).map((block) => `${block}\n`);
}

/** A certificate's validity. */
export function validityOf(cert: X509Certificate): Validity {
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

/** True when the key is the certificate's. */
export function keyMatches(cert: X509Certificate, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** True when the certificate carries every DNS name and IP address. */
export function coversNames(cert: X509Certificate, names: ServingNames): boolean {
  const entries = (cert.subjectAltName ?? '').split(', ');
  const has = (entry: string) => entries.includes(entry);
  return (
    names.dns.every((name) => has(`DNS:${name}`)) &&
    names.ips.every((ip) => has(`IP Address:${ip}`) || has(`IP Address:${ip.toUpperCase()}`))
  );
}
