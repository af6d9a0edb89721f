import { createHash } from 'node:crypto';

import type * as CertificateAnalysisModule from '../../core/certificate';
import type { CertificateAnalysis } from '../../core/certificate';

/** Opens and checks a PKCS#12 file with its password, as an upload is checked. */
export type Pkcs12Analyser = (bytes: Buffer, password: string) => CertificateAnalysis;

// The analysis brings node-forge, some 10 MB of resident memory that a sidecar next to every pod
// needs only when its standalone file names a PKCS#12 (from Vault it reads the operator's PEM).
const analyzeOnDemand: Pkcs12Analyser = (bytes, password) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const analysis: typeof CertificateAnalysisModule = require('../../core/certificate');
  return analysis.analyzePkcs12(bytes, password);
};

/**
 * The usable analyses of the standalone file's PKCS#12 files, one per certificate name, kept by
 * a digest of the file's bytes and password: a reload that finds both unchanged reuses the
 * analysis instead of running the password's key derivation again. A refusal is not kept, as
 * some checks (the validity window) depend on the time of the analysis.
 */
export class Pkcs12Analyses {
  private readonly known = new Map<string, { digest: string; analysis: CertificateAnalysis }>();

  constructor(private readonly analyse: Pkcs12Analyser = analyzeOnDemand) {}

  /** The analysis of the named certificate's file, reused when its bytes and password are. */
  analysisOf(name: string, bytes: Buffer, password: string): CertificateAnalysis {
    // The length prefix keeps (password, bytes) pairs from running into one another.
    const digest = createHash('sha256')
      .update(`${Buffer.byteLength(password)}:${password}`)
      .update(bytes)
      .digest('hex');
    const known = this.known.get(name);
    if (known?.digest === digest) return known.analysis;

    const analysis = this.analyse(bytes, password);
    if (analysis.usable) this.known.set(name, { digest, analysis });
    return analysis;
  }

  /** Forgets the certificates a reload no longer declares. */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of this.known.keys()) if (!names.has(name)) this.known.delete(name);
  }
}
