import { createPrivateKey, generateKeyPairSync } from 'node:crypto';

import { openssl, useCorpusPki } from '../../test/fixtures/certificate-corpus';
import { CertificateInputError } from './finding';
import { readPem, type PemInput } from './pem';

const pki = useCorpusPki();

function failure(input: PemInput): CertificateInputError {
  try {
    readPem(input);
  } catch (err) {
    if (err instanceof CertificateInputError) return err;
    throw err;
  }
  throw new Error('expected readPem to fail');
}

describe('readPem', () => {
  it('reads the chain from both fields, in order, and ignores other blocks', () => {
    const ecParameters = openssl(pki.dir, ['ecparam', '-name', 'prime256v1']);

    const material = readPem({
      certificatePem: `${pki.ecLeaf.certPem}\n${pki.intermediate.certPem}`,
      privateKeyPem: ecParameters + pki.ecLeaf.keyPem,
      caPem: pki.root.certPem,
    });

    expect(material.certificates.map((cert) => cert.subject.split('\n').pop())).toEqual([
      'CN=ec-leaf',
      'CN=Corpus Issuing CA',
      'CN=Corpus Root CA',
    ]);
    expect(material.privateKeys).toHaveLength(1);
  });

  it('reads PKCS#8, PKCS#1 and SEC1 keys', () => {
    const rsa = createPrivateKey(pki.leaf.keyPem);
    const ec = createPrivateKey(pki.ecLeaf.keyPem);
    const forms = [
      rsa.export({ type: 'pkcs8', format: 'pem' }),
      rsa.export({ type: 'pkcs1', format: 'pem' }),
      ec.export({ type: 'sec1', format: 'pem' }),
    ].map(String);
    expect(forms[1]).toContain('BEGIN RSA PRIVATE KEY');
    expect(forms[2]).toContain('BEGIN EC PRIVATE KEY');

    for (const privateKeyPem of forms) {
      const material = readPem({ certificatePem: pki.leaf.certPem, privateKeyPem });
      expect(material.privateKeys).toHaveLength(1);
    }
    expect(
      readPem({ certificatePem: pki.leaf.certPem, privateKeyPem: forms.join('') }).privateKeys,
    ).toHaveLength(3);
  });

  it('refuses an encrypted key with a way out', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const encrypted = privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'x',
    });

    const err = failure({ certificatePem: pki.ecLeaf.certPem, privateKeyPem: String(encrypted) });

    expect(err.code).toBe('PEM_MALFORMED');
    expect(err.message).toContain('openssl pkey');
  });

  it('refuses text without PEM, cut blocks and damaged base64', () => {
    const cut = pki.leaf.certPem.slice(0, 200);
    const damaged = pki.leaf.certPem.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!');

    expect(
      failure({ certificatePem: 'not pem', privateKeyPem: pki.leaf.keyPem }).message,
    ).toContain('certificatePem holds no PEM block');
    expect(
      failure({ certificatePem: pki.leaf.certPem + cut, privateKeyPem: pki.leaf.keyPem }).message,
    ).toContain('without its matching -----END');
    expect(failure({ certificatePem: damaged, privateKeyPem: pki.leaf.keyPem }).message).toContain(
      'certificate 1 cannot be read',
    );
    expect(failure({ certificatePem: pki.leaf.certPem, privateKeyPem: 'x' }).code).toBe(
      'PEM_MALFORMED',
    );
  });

  it('refuses each field over 64 KiB', () => {
    const big = pki.root.certPem.repeat(Math.ceil((64 * 1024) / pki.root.certPem.length) + 1);

    const err = failure({
      certificatePem: pki.leaf.certPem,
      privateKeyPem: pki.leaf.keyPem,
      caPem: big,
    });

    expect(err.code).toBe('INPUT_TOO_LARGE');
    expect(err.message).toContain('caPem is');
  });
});
