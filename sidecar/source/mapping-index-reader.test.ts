import { recordingLogger, type LogLine } from '../../test/fixtures/recording-logger';
import { readMappingIndex } from './mapping-index-reader';

function entry(name: string, path?: string) {
  return {
    name,
    match: { host: `${name}.example`, pathPrefix: '/' },
    certificate: { name: 'partner', vaultVersion: 3, ...(path ? { path } : {}) },
  };
}

describe('readMappingIndex', () => {
  it("ignores, with a warning, a mapping whose certificate is another namespace's", () => {
    const lines: LogLine[] = [];
    const index = readMappingIndex(
      {
        namespace: 'payments',
        mappings: [
          entry('own'),
          entry('adopted', 'teams/payments/psd2'),
          entry('stolen', 'mtls/billing/certificates/partner'),
          entry('sneaky', 'teams/../mtls/billing/certificates/partner'),
        ],
      },
      'payments',
      recordingLogger(lines),
    );

    expect(index.mappings.map((m) => [m.name, m.certificate.path])).toEqual([
      ['own', 'mtls/payments/certificates/partner'],
      ['adopted', 'teams/payments/psd2'],
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: {
          namespace: 'payments',
          name: 'stolen',
          vaultPath: 'mtls/billing/certificates/partner',
        },
      }),
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({ name: 'sneaky' }),
      }),
    ]);
  });
});
