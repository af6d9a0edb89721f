// The certificate analysis that the operator, the P12 testing tool and the kubectl plugin share.
export { analyzePem, analyzePkcs12, analyzeMaterial } from './analysis';
export type { AnalysisOptions, CertificateAnalysis } from './analysis';
export type { CertificateBundle, CertificateMetadata } from './bundle';
export { CertificateInputError, MAX_INPUT_BYTES } from './finding';
export type { CertificateFinding } from './finding';
export { judgeJavaCompatibility, MODERN_JAVA } from './java-compatibility';
export type { JavaCompatibility } from './java-compatibility';
export type { PemInput } from './pem';
export type { Pkcs12Algorithms } from './pkcs12-algorithms';
