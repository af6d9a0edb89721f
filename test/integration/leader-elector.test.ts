import * as k8s from '@kubernetes/client-node';

import { createLogger } from '../../core/log/logger';
import { LeaderElector } from '../../operator/runtime';
import { eventually } from './eventually';
import { adminKubeClient, adminKubeConfig, uniqueName } from './ground';

// Two replicas contending for one real Lease, with a lease short enough for a test.

const log = createLogger('leader-test', 'error');

type Replica = { elector: LeaderElector; started: number; stopped: number };

describe('LeaderElector', () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const leases = kc.makeApiClient(k8s.CoordinationV1Api);
  const client = adminKubeClient();
  const running: LeaderElector[] = [];
  let namespace: string;

  /** A replica with a 2-second lease that counts its leadership callbacks. */
  function replica(identity: string): Replica {
    const counts: Replica = {
      elector: undefined as unknown as LeaderElector,
      started: 0,
      stopped: 0,
    };
    counts.elector = new LeaderElector({
      client,
      namespace,
      name: 'mtls-operator',
      identity,
      leaseDurationSeconds: 2,
      renewDeadlineMs: 1500,
      retryPeriodMs: 200,
      logger: log,
      onStartedLeading: () => (counts.started += 1),
      onStoppedLeading: () => (counts.stopped += 1),
    });
    running.push(counts.elector);
    return counts;
  }

  const readLease = () => leases.readNamespacedLease({ name: 'mtls-operator', namespace });

  /** Starts both replicas and waits until one leads and the other has seen it lead. */
  async function electOne(): Promise<{ leader: Replica; follower: Replica }> {
    const a = replica('replica-a');
    const b = replica('replica-b');
    a.elector.start();
    b.elector.start();
    await eventually('one replica leads', () => a.elector.isLeader() || b.elector.isLeader());
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    await eventually(
      'the other saw the leader',
      () => follower.elector.leader() === leader.elector.identity,
    );
    return { leader, follower };
  }

  beforeEach(async () => {
    namespace = uniqueName('leases');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((elector) => elector.stop()));
  });

  afterAll(() => client.close());

  it('lets exactly one of two replicas lead, and the leader keeps renewing', async () => {
    const { leader, follower } = await electOne();
    const firstRenewal = new Date(String((await readLease()).spec?.renewTime)).getTime();

    await eventually('the leader renewed', async () => {
      const renewed = new Date(String((await readLease()).spec?.renewTime)).getTime();
      return renewed > firstRenewal;
    });
    const lease = await readLease();

    expect(leader.elector.isLeader()).toBe(true);
    expect(follower.elector.isLeader()).toBe(false);
    expect(lease.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(2);
    expect([leader.started, leader.stopped, follower.started]).toEqual([1, 0, 0]);
  });

  it('hands over as soon as the leader stops and releases the lease', async () => {
    const { leader, follower } = await electOne();
    const transitions = (await readLease()).spec?.leaseTransitions ?? 0;

    await leader.elector.stop();
    await eventually('the other replica leads', () => follower.elector.isLeader());
    const taken = await readLease();

    expect(leader.elector.isLeader()).toBe(false);
    expect([leader.started, leader.stopped]).toEqual([1, 1]);
    expect(taken.spec?.holderIdentity).toBe(follower.elector.identity);
    expect(taken.spec?.leaseTransitions).toBe(transitions + 1);
  });

  it('hands over after the lease expires when the leader dies without releasing it', async () => {
    const { leader, follower } = await electOne();

    await leader.elector.stop({ release: false });
    const abandoned = await readLease();
    await eventually('the other replica leads', () => follower.elector.isLeader());
    const taken = await readLease();

    expect(abandoned.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(taken.spec?.holderIdentity).toBe(follower.elector.identity);
    expect(new Date(String(taken.spec?.renewTime)).getTime()).toBeGreaterThan(
      new Date(String(abandoned.spec?.renewTime)).getTime() + 2000,
    );
  });

  it('stops leading when another holder takes the lease over', async () => {
    const a = replica('replica-a');
    a.elector.start();
    await eventually('the replica leads', () => a.elector.isLeader());

    // The leader renews meanwhile, so the takeover is retried until it wins the race.
    await eventually('the intruder took the lease', async () => {
      const lease = await readLease();
      const body: k8s.V1Lease = {
        metadata: {
          name: 'mtls-operator',
          namespace,
          resourceVersion: lease.metadata?.resourceVersion,
        },
        spec: {
          ...lease.spec,
          holderIdentity: 'intruder',
          leaseDurationSeconds: 60,
          renewTime: new k8s.V1MicroTime(Date.now()),
        },
      };
      return leases.replaceNamespacedLease({ name: 'mtls-operator', namespace, body }).then(
        () => true,
        (err: { code?: number }) => (err.code === 409 ? false : Promise.reject(err)),
      );
    });
    await eventually('the replica stepped down', () => !a.elector.isLeader());

    expect([a.started, a.stopped]).toEqual([1, 1]);
    expect(a.elector.leader()).toBe('intruder');
    expect((await readLease()).spec?.holderIdentity).toBe('intruder');
  });
});
