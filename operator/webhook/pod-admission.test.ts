import { recordingLogger, type LogLine } from '../../test/fixtures/recording-logger';
import type { AdmissionRequest } from './admission-review';
import { DEFAULT_INJECTION_CONFIG } from './injection-config';
import { admitPod } from './pod-admission';
import type { Pod } from './pod-spec';

const lines: LogLine[] = [];
const read: string[] = [];
const context = {
  config: DEFAULT_INJECTION_CONFIG,
  namespaceLabels: async (namespace: string): Promise<Record<string, string>> => {
    read.push(namespace);
    if (namespace === 'unreachable') throw new Error('apiserver unreachable');
    return namespace === 'injected' ? { 'mtls.io/inject': 'enabled' } : {};
  },
  log: recordingLogger(lines),
};

function request(pod: Pod, namespace: string, changes: Partial<AdmissionRequest> = {}) {
  return {
    uid: 'u-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    namespace,
    operation: 'CREATE',
    object: pod,
    ...changes,
  };
}

const bare: Pod = { metadata: { generateName: 'web-' }, spec: { containers: [{ name: 'app' }] } };
const labelled = (value: string): Pod => ({
  ...bare,
  metadata: { labels: { 'mtls.io/inject': value } },
});

beforeEach(() => {
  read.length = 0;
  lines.length = 0;
});

describe('admitPod', () => {
  it('injects by the namespace label, read for pods that do not decide alone', async () => {
    const admission = await admitPod(request(bare, 'injected'), context);
    expect(admission.result).toBe('injected');
    expect(admission.review.response).toMatchObject({ uid: 'u-1', allowed: true });
    expect(read).toEqual(['injected']);
    expect(lines).toContainEqual({
      level: 'info',
      message: 'pod injected',
      fields: { namespace: 'injected', name: 'web-*', egress: 'iptables', dryRun: false },
    });
  });

  it('does not read the namespace when the pod label decides', async () => {
    const enabled = await admitPod(request(labelled('enabled'), 'unreachable'), context);
    const disabled = await admitPod(request(labelled('disabled'), 'unreachable'), context);
    expect([enabled.result, disabled.result]).toEqual(['injected', 'skipped']);
    expect(read).toEqual([]);
  });

  it('lets a failed namespace read throw, for the server to answer 500', async () => {
    await expect(admitPod(request(bare, 'unreachable'), context)).rejects.toThrow(
      'apiserver unreachable',
    );
  });

  it('admits unchanged what is not the creation of a pod', async () => {
    const cases: Partial<AdmissionRequest>[] = [
      { operation: 'UPDATE' },
      { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
      { subResource: 'ephemeralcontainers' },
      { object: undefined },
    ];
    for (const changes of cases) {
      const admission = await admitPod(request(labelled('enabled'), 'injected', changes), context);
      expect(admission).toEqual({
        review: {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: 'u-1', allowed: true },
        },
        result: 'skipped',
      });
    }
  });

  it('rejects with the message the user will read', async () => {
    const pod = { ...bare, metadata: { annotations: { 'mtls.io/rate-limit': '-1' } } };
    const admission = await admitPod(request(pod, 'injected'), context);
    expect(admission.result).toBe('rejected');
    expect(admission.review.response).toEqual({
      uid: 'u-1',
      allowed: false,
      status: {
        code: 400,
        reason: 'BadRequest',
        message:
          "mtls.io/rate-limit: '-1' is not a positive number of requests per second " +
          'such as 10 or 2.5',
      },
    });
  });
});
