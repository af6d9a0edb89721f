import type { Pkcs12Algorithms } from './pkcs12-algorithms';

/** Which Java versions can open a PKCS#12 file, judged from the algorithms that protect it. */
export type JavaCompatibility = {
  /** ['all'], the minimum updates of each Java line, or [] when no known Java reads it. */
  readableBy: string[];
  macAlgorithm?: string;
  keyEncryption?: string;
  certEncryption?: string;
  /** One sentence for a user. */
  summary: string;
};

/** Java versions that read PBES2/AES-encrypted PKCS#12 files with an HmacSHA256 MAC. */
export const MODERN_JAVA = ['8u301+', '11.0.12+', '17+'];

type Era = 'legacy' | 'modern' | 'unknown';

/** The PBE schemes of RFC 7292 that Java's SunJCE has always had. */
const LEGACY_ENCRYPTION = new Set([
  'pbeWithSHAAnd40BitRC2-CBC',
  'pbeWithSHAAnd128BitRC2-CBC',
  'pbeWithSHAAnd3-KeyTripleDES-CBC',
  'pbeWithSHAAnd40BitRC4',
  'pbeWithSHAAnd128BitRC4',
  'none',
]);
const MODERN_PBES2 = /^PBES2 \(PBKDF2, hmacWithSHA(1|224|256|384|512), (AES-(128|256)-CBC)\)$/;
const MODERN_MAC = new Set(['HmacSHA224', 'HmacSHA256', 'HmacSHA384', 'HmacSHA512']);

/**
 * Judges Java compatibility: the legacy algorithms (SHA-1 PBE with RC2 or 3DES, HmacSHA1 MAC)
 * are read by every Java version; PBES2 with AES and SHA-2 MACs arrived in 8u301 and 11.0.12.
 */
export function judgeJavaCompatibility(algorithms: Pkcs12Algorithms): JavaCompatibility {
  const eras = [
    encryptionEra(algorithms.keyEncryption),
    encryptionEra(algorithms.certEncryption),
    macEra(algorithms.mac),
  ];
  const named = {
    macAlgorithm: algorithms.mac,
    keyEncryption: algorithms.keyEncryption,
    certEncryption: algorithms.certEncryption,
  };
  const used = describeUse(algorithms);

  if (eras.includes('unknown')) {
    return {
      readableBy: [],
      ...named,
      summary:
        `No known Java version reads this file (${used}); ` +
        'export it again with AES-256 and HmacSHA256, or with -legacy',
    };
  }
  if (eras.includes('modern')) {
    return {
      readableBy: MODERN_JAVA,
      ...named,
      summary:
        `Readable by Java 8u301+, 11.0.12+ and 17+ (${used}); ` +
        'older Java versions need a file exported with -legacy',
    };
  }
  return { readableBy: ['all'], ...named, summary: `Readable by every Java version (${used})` };
}

function encryptionEra(algorithm: string | undefined): Era {
  if (algorithm === undefined || LEGACY_ENCRYPTION.has(algorithm)) return 'legacy';
  return MODERN_PBES2.test(algorithm) ? 'modern' : 'unknown';
}

function macEra(mac: string | undefined): Era {
  if (mac === undefined || mac === 'HmacSHA1') return 'legacy';
  return MODERN_MAC.has(mac) ? 'modern' : 'unknown';
}

function describeUse(algorithms: Pkcs12Algorithms): string {
  return [
    `key: ${algorithms.keyEncryption ?? 'not visible'}`,
    `certificates: ${algorithms.certEncryption ?? 'not visible'}`,
    `MAC: ${algorithms.mac ?? 'none'}`,
  ].join(', ');
}
