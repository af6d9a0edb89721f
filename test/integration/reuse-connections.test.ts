import tls from 'node:tls';

import * as k8s from '@kubernetes/client-node';

import { reuseConnections } from '../../core/kube/reuse-connections';
import { adminKubeConfig } from './ground';

/** Counts the TLS connections this process opens while `work` runs. */
async function connectionsDuring(work: () => Promise<void>): Promise<number> {
  const connect = jest.spyOn(tls, 'connect');
  try {
    await work();
    return connect.mock.calls.length;
  } finally {
    connect.mockRestore();
  }
}

describe('reuseConnections', () => {
  it('lets 40 API calls share a connection where client-node opens one per call', async () => {
    const calls = (kc: k8s.KubeConfig) => async () => {
      const core = kc.makeApiClient(k8s.CoreV1Api);
      for (let i = 0; i < 40; i++) await core.readNamespace({ name: 'default' });
    };

    const plain = await connectionsDuring(calls(adminKubeConfig()));
    const pooled = await connectionsDuring(calls(reuseConnections(adminKubeConfig())));

    expect(plain).toBeGreaterThanOrEqual(40);
    expect(pooled).toBeLessThanOrEqual(2);
  });
});
