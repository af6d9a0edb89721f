import type { MtlsMapping } from '../../core/resources/types';
import { decideMappings } from './applicable-mappings';
import { destinationOfUrl } from './destination';

type State = { reason: string; ready?: boolean } | 'none';

let created = 0;

function mapping(
  name: string,
  url: string,
  options: { labels?: Record<string, string>; state?: State; enabled?: boolean } = {},
): MtlsMapping {
  created += 1;
  const state = options.state ?? { reason: 'Active', ready: true };
  const conditions =
    state === 'none'
      ? undefined
      : [
          {
            type: 'Ready',
            status: state.ready ? ('True' as const) : ('False' as const),
            reason: state.reason,
            message: `${state.reason} message`,
            lastTransitionTime: '2027-01-01T00:00:00Z',
          },
        ];
  return {
    apiVersion: 'mtls.io/v1alpha1',
    kind: 'MtlsMapping',
    metadata: {
      name,
      namespace: 'shop',
      // Each mapping is a second younger than the one made before it.
      creationTimestamp: new Date(Date.UTC(2027, 0, 1, 0, 0, created)).toISOString(),
    },
    spec: {
      url,
      certificateName: `${name}-cert`,
      ...(options.labels ? { workloadSelector: { matchLabels: options.labels } } : {}),
      ...(options.enabled === false ? { enabled: false } : {}),
    },
    status: conditions && { conditions },
  };
}

function decide(mappings: MtlsMapping[], url: string, labels?: Record<string, string>) {
  const decision = decideMappings(mappings, destinationOfUrl(url), labels);
  return {
    applying: decision.applying.map((m) => m.metadata.name),
    passedOver: decision.passedOver.map((p) => `${p.mapping.metadata.name}: ${p.reason}`),
    messages: decision.passedOver.map((p) => p.message),
  };
}

describe('decideMappings', () => {
  it('applies the covering Ready mapping and ignores mappings of other URLs', () => {
    const result = decide(
      [
        mapping('api', 'https://api.partner.example/v2/'),
        mapping('other-host', 'https://other.example/'),
        mapping('other-port', 'https://api.partner.example:8443/'),
        mapping('other-path', 'https://api.partner.example/v3/'),
        mapping('broken', 'http://api.partner.example/'),
      ],
      'https://api.partner.example/v2/payments?id=1',
    );
    expect(result).toEqual({ applying: ['api'], passedOver: [], messages: [] });
  });

  it('prefers an exact host to a wildcard, then the longest path prefix, as the sidecar', () => {
    const mappings = [
      mapping('wild', 'https://*.partner.example/'),
      mapping('host', 'https://api.partner.example/'),
      mapping('payments', 'https://api.partner.example/v2/payments'),
    ];
    expect(decide(mappings, 'http://api.partner.example/v2/payments/1')).toEqual({
      applying: ['payments'],
      passedOver: ['wild: Shadowed', 'host: Shadowed'],
      messages: [
        "MtlsMapping 'payments' goes first for these workloads " +
          '(exact host, then longest path prefix, then name)',
        "MtlsMapping 'payments' goes first for these workloads " +
          '(exact host, then longest path prefix, then name)',
      ],
    });
    expect(decide(mappings, 'https://auth.partner.example/').applying).toEqual(['wild']);
    // A path prefix covers whole segments only.
    expect(decide(mappings, 'https://api.partner.example/v2/paymentsx').applying).toEqual(['host']);
  });

  it('lets the oldest of two claims of the same URL win, even before the status says so', () => {
    const result = decide(
      [
        mapping('first', 'https://bank.example/'),
        mapping('second', 'https://BANK.example:443/'),
        mapping('third', 'https://bank.example/', { state: { reason: 'Conflict' } }),
      ],
      'https://bank.example/accounts',
    );
    expect(result.applying).toEqual(['first']);
    expect(result.passedOver).toEqual(['second: Conflict', 'third: Conflict']);
    expect(result.messages[0]).toBe(
      "MtlsMapping 'first' claims the same URL for the same workloads and is older " +
        '(or first by name)',
    );
  });

  it('lets no mapping that the operator could not use win a claim', () => {
    const result = decide(
      [
        mapping('older', 'https://bank.example/', {
          state: { reason: 'CertificateNotReady' },
        }),
        mapping('younger', 'https://bank.example/'),
      ],
      'https://bank.example/',
    );
    expect(result.applying).toEqual(['younger']);
    expect(result.passedOver).toEqual(['older: CertificateNotReady']);
    expect(result.messages).toEqual(['CertificateNotReady message']);
  });

  it('answers for each workload selector, or for the labels given', () => {
    const mappings = [
      mapping('everyone', 'https://bank.example/'),
      mapping('billing', 'https://bank.example/', { labels: { app: 'billing' } }),
    ];
    expect(decide(mappings, 'https://bank.example/x').applying).toEqual(['everyone', 'billing']);

    expect(decide(mappings, 'https://bank.example/x', { app: 'shop' })).toMatchObject({
      applying: ['everyone'],
      passedOver: ['billing: WorkloadNotSelected'],
      messages: ['it selects workloads labelled app=billing'],
    });
    // Equally specific mappings that both select a workload are ordered by name.
    expect(decide(mappings, 'https://bank.example/x', { app: 'billing', tier: 'web' })).toEqual(
      expect.objectContaining({ applying: ['billing'], passedOver: ['everyone: Shadowed'] }),
    );
  });

  it('passes over disabled, failed and not yet reconciled mappings, with their reasons', () => {
    const result = decide(
      [
        mapping('off', 'https://bank.example/a', { enabled: false }),
        mapping('failed', 'https://bank.example/a/b', { state: { reason: 'ValidationFailed' } }),
        mapping('new', 'https://bank.example/a/b/c', { state: 'none' }),
      ],
      'https://bank.example/a/b/c/d',
    );
    expect(result).toEqual({
      applying: [],
      passedOver: ['off: Disabled', 'failed: ValidationFailed', 'new: Pending'],
      messages: [
        'spec.enabled is false',
        'ValidationFailed message',
        'the operator has not reported on it yet',
      ],
    });
  });
});

describe('destinationOfUrl', () => {
  it('reads the destination as the sidecar does: TLS on the named port or 443', () => {
    expect(destinationOfUrl('http://API.example/v2?x=1')).toEqual({
      host: 'api.example',
      port: 443,
      path: '/v2?x=1',
    });
    expect(destinationOfUrl('https://[::1]:8443/')).toEqual({ host: '::1', port: 8443, path: '/' });
    expect(destinationOfUrl('bank.example/a')).toEqual({
      host: 'bank.example',
      port: 443,
      path: '/a',
    });
  });

  it('refuses what is not an http URL', () => {
    expect(() => destinationOfUrl('ftp://x.example/')).toThrow('must be an http or https URL');
    expect(() => destinationOfUrl('https://u:p@x.example/')).toThrow('must not carry credentials');
    expect(() => destinationOfUrl('https://')).toThrow('is not a URL');
  });
});
