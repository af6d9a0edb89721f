import { isWrittenByProject, pkcs12SecretName, pkcs12SecretOf } from './pkcs12-secret';
import type { MtlsCertificate } from './types';

function certificate(source: MtlsCertificate['spec']['source']) {
  return { metadata: { name: 'partner', namespace: 'team' }, spec: { source } };
}

describe('the PKCS#12 Secret of a certificate', () => {
  it('is named after the certificate when it is new', () => {
    expect(pkcs12SecretName('partner')).toBe('partner-p12');
  });

  it('is the one the source names on an update, whatever its name', () => {
    expect(pkcs12SecretOf(certificate({ pkcs12: { secretName: 'partner.p12' } }))).toBe(
      'partner.p12',
    );
    expect(pkcs12SecretOf(certificate({ pem: { secretName: 'partner-tls' } }))).toBe('partner-p12');
    expect(pkcs12SecretOf(certificate({ vault: { path: 'x' } }))).toBe('partner-p12');
  });

  it('may be overwritten only when the gateway or kubectl-mtls made it', () => {
    const labelled = (writer?: string) => {
      const labels: Record<string, string> = {};
      if (writer) labels['app.kubernetes.io/managed-by'] = writer;
      return { metadata: { labels } };
    };
    expect(isWrittenByProject(labelled('mtls-gateway'))).toBe(true);
    expect(isWrittenByProject(labelled('kubectl-mtls'))).toBe(true);
    expect(isWrittenByProject(labelled('Helm'))).toBe(false);
    expect(isWrittenByProject(labelled())).toBe(false);
    expect(isWrittenByProject({ metadata: {} })).toBe(false);
  });
});
