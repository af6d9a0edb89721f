import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

/** The protection algorithms of a PKCS#12 file, readable without its password. */
export type Pkcs12Algorithms = {
  /** The integrity MAC, e.g. HmacSHA1 or HmacSHA256; absent when the file has no MAC. */
  mac?: string;
  /** How the private key is encrypted (its shrouded key bag); absent when not visible. */
  keyEncryption?: string;
  /** How the certificates are encrypted (the encrypted safe); 'none' when stored in clear. */
  certEncryption?: string;
};

const DATA = '1.2.840.113549.1.7.1';
const ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const PBES2 = '1.2.840.113549.1.5.13';

/** Names of the algorithms, as RFC 7292 and RFC 8018 spell them (openssl prints the same). */
const NAMES: Record<string, string> = {
  '1.2.840.113549.1.12.1.1': 'pbeWithSHAAnd128BitRC4',
  '1.2.840.113549.1.12.1.2': 'pbeWithSHAAnd40BitRC4',
  '1.2.840.113549.1.12.1.3': 'pbeWithSHAAnd3-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.4': 'pbeWithSHAAnd2-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.5': 'pbeWithSHAAnd128BitRC2-CBC',
  '1.2.840.113549.1.12.1.6': 'pbeWithSHAAnd40BitRC2-CBC',
  '1.2.840.113549.1.5.12': 'PBKDF2',
  '1.2.840.113549.2.7': 'hmacWithSHA1',
  '1.2.840.113549.2.8': 'hmacWithSHA224',
  '1.2.840.113549.2.9': 'hmacWithSHA256',
  '1.2.840.113549.2.10': 'hmacWithSHA384',
  '1.2.840.113549.2.11': 'hmacWithSHA512',
  '2.16.840.1.101.3.4.1.2': 'AES-128-CBC',
  '2.16.840.1.101.3.4.1.22': 'AES-192-CBC',
  '2.16.840.1.101.3.4.1.42': 'AES-256-CBC',
  '1.2.840.113549.3.7': 'DES-EDE3-CBC',
  '1.3.14.3.2.26': 'HmacSHA1',
  '2.16.840.1.101.3.4.2.4': 'HmacSHA224',
  '2.16.840.1.101.3.4.2.1': 'HmacSHA256',
  '2.16.840.1.101.3.4.2.2': 'HmacSHA384',
  '2.16.840.1.101.3.4.2.3': 'HmacSHA512',
  '1.2.840.113549.2.5': 'HmacMD5',
};

/**
 * Reads which algorithms protect a PKCS#12 file from its DER structure (PFX, macData,
 * AuthenticatedSafe). No password is needed, so this answers even when the password is wrong.
 * Throws when the structure is not a PKCS#12 file.
 */
export function readPkcs12Algorithms(pfx: Asn1): Pkcs12Algorithms {
  const [, authSafe, macData] = children(pfx);
  const algorithms: Pkcs12Algorithms = {};

  // macData: SEQUENCE { DigestInfo { AlgorithmIdentifier, digest }, salt, iterations }
  if (macData) algorithms.mac = nameOf(oid(children(children(children(macData)[0])[0])[0]));

  for (const info of children(octetContent(explicitContent(authSafe)))) {
    const [contentType, content] = children(info);

    if (oid(contentType) === ENCRYPTED_DATA) {
      // EncryptedData { version, EncryptedContentInfo { type, algorithm, [0] content } }
      const encryptedContentInfo = children(children(content)[0])[1];
      algorithms.certEncryption = describeAlgorithm(children(encryptedContentInfo)[1]);
      continue;
    }
    if (oid(contentType) !== DATA) continue;

    for (const bag of children(octetContent(children(content)[0]))) {
      const [bagId, bagValue] = children(bag);
      if (oid(bagId) === SHROUDED_KEY_BAG) {
        // EncryptedPrivateKeyInfo { AlgorithmIdentifier, encryptedData }
        algorithms.keyEncryption = describeAlgorithm(children(children(bagValue)[0])[0]);
      }
      if (oid(bagId) === CERT_BAG) algorithms.certEncryption ??= 'none';
    }
  }
  return algorithms;
}

/** Names an AlgorithmIdentifier; PBES2 as "PBES2 (PBKDF2, <prf>, <cipher>)". */
function describeAlgorithm(identifier: Asn1): string {
  const [algorithm, parameters] = children(identifier);
  if (oid(algorithm) !== PBES2) return nameOf(oid(algorithm));

  // PBES2-params { keyDerivationFunc { PBKDF2, PBKDF2-params }, encryptionScheme { cipher, iv } }
  const [kdf, scheme] = children(parameters);
  const [kdfAlgorithm, kdfParameters] = children(kdf);
  const prfIdentifier = children(kdfParameters).find((part) => part.type === asn1.Type.SEQUENCE);
  const prf = prfIdentifier ? nameOf(oid(children(prfIdentifier)[0])) : 'hmacWithSHA1';
  return `PBES2 (${nameOf(oid(kdfAlgorithm))}, ${prf}, ${nameOf(oid(children(scheme)[0]))})`;
}

function nameOf(identifier: string): string {
  return NAMES[identifier] ?? identifier;
}

function children(node: Asn1 | undefined): Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new Error('unexpected PKCS#12 structure');
  return node.value;
}

function oid(node: Asn1 | undefined): string {
  if (!node || node.type !== asn1.Type.OID || typeof node.value !== 'string') {
    throw new Error('expected an object identifier in the PKCS#12 structure');
  }
  return asn1.derToOid(node.value);
}

/** The [0] EXPLICIT content of a ContentInfo. */
function explicitContent(contentInfo: Asn1): Asn1 {
  return children(children(contentInfo)[1])[0];
}

/** Parses the DER inside an OCTET STRING, joining a constructed (BER) one first. */
function octetContent(octets: Asn1): Asn1 {
  const bytes = Array.isArray(octets.value)
    ? octets.value.map((chunk) => String(chunk.value)).join('')
    : String(octets.value);
  return asn1.fromDer(bytes);
}
