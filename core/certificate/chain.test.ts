import { createPrivateKey, X509Certificate } from 'node:crypto';

import { useCorpusPki } from '../../test/fixtures/certificate-corpus';
import { distinctCertificates, nameOfCertificate, orderChain, selectLeaf } from './chain';

const pki = useCorpusPki();
let leaf: X509Certificate;
let intermediate: X509Certificate;
let root: X509Certificate;

beforeAll(() => {
  [leaf, intermediate, root] = [pki.leaf, pki.intermediate, pki.root].map(
    (issued) => new X509Certificate(issued.certPem),
  );
}, 120_000);

// Jest finds every two X509Certificate objects equal, so the tests compare their names.
function names(certificates: X509Certificate[]): string[] {
  return certificates.map(nameOfCertificate);
}

describe('selectLeaf', () => {
  it('picks the certificate of the key wherever it is', () => {
    const selected = selectLeaf([root, intermediate, leaf], createPrivateKey(pki.leaf.keyPem));

    expect(selected.keyMatches).toBe(true);
    expect(selected.leaf).toBe(leaf);
  });

  it('without a matching key, picks the certificate that issued none of the others', () => {
    const selected = selectLeaf([intermediate, root, leaf], createPrivateKey(pki.otherKeyPem));

    expect(selected.keyMatches).toBe(false);
    expect(selected.leaf).toBe(leaf);
    expect(selectLeaf([intermediate, leaf], undefined).leaf).toBe(leaf);
  });
});

describe('orderChain', () => {
  it('keeps a chain in order as it is', () => {
    const ordered = orderChain([leaf, intermediate, root], leaf);

    expect(names(ordered.chain)).toEqual([
      'CN=leaf,O=Acme\\, Inc.,C=DE',
      'CN=Corpus Issuing CA,O=Corpus',
      'CN=Corpus Root CA,O=Corpus',
    ]);
    expect(ordered.reordered).toBe(false);
    expect(ordered.unrelated).toHaveLength(0);
    expect(orderChain([leaf], leaf).reordered).toBe(false);
  });

  it('reorders by signature, not by position', () => {
    const ordered = orderChain([root, intermediate, leaf], leaf);

    expect(ordered.chain.map((cert) => cert.fingerprint256)).toEqual(
      [leaf, intermediate, root].map((cert) => cert.fingerprint256),
    );
    expect(ordered.reordered).toBe(true);
  });

  it('leaves out what did not issue the chain', () => {
    const unrelated = new X509Certificate(pki.unrelatedRoot.certPem);

    const ordered = orderChain([leaf, unrelated, root], leaf);

    expect(names(ordered.chain)).toEqual(['CN=leaf,O=Acme\\, Inc.,C=DE']);
    expect(names(ordered.unrelated)).toEqual([
      'CN=Unrelated Root CA',
      'CN=Corpus Root CA,O=Corpus',
    ]);
    expect(ordered.reordered).toBe(false);
  });
});

describe('distinctCertificates', () => {
  it('drops a repeated certificate', () => {
    const again = new X509Certificate(pki.leaf.certPem);

    expect(distinctCertificates([leaf, intermediate, again])).toHaveLength(2);
    expect(distinctCertificates([leaf, intermediate, again])[1]).toBe(intermediate);
  });
});
