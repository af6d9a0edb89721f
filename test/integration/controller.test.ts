import * as k8s from '@kubernetes/client-node';
import { Registry } from 'prom-client';

import type { LogFields, Logger } from '../../core/log/logger';
import {
  Controller,
  ControllerMetrics,
  ResilientInformer,
  TerminalError,
  type ApiResource,
  type Reconciler,
} from '../../operator/runtime';
import { eventually } from './eventually';
import { adminKubeClient, adminKubeConfig, uniqueName } from './ground';

// A controller on real ConfigMaps (the primary objects) that reference Secrets (watched).

const CONFIG_MAPS: ApiResource = {
  group: '',
  version: 'v1',
  plural: 'configmaps',
  kind: 'ConfigMap',
};
const SECRETS: ApiResource = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };

type LogLine = { level: string; message: string; fields: LogFields };

/** A logger that keeps every line with the fields of its child chain. */
function recordingLogger(lines: LogLine[], inherited: LogFields = {}): Logger {
  const write =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      void lines.push({ level, message, fields: { ...inherited, ...fields } });
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => recordingLogger(lines, { ...inherited, ...fields }),
  };
}

describe('Controller', () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const client = adminKubeClient();
  let namespace: string;
  let lines: LogLine[];
  let registry: Registry;
  let controller: Controller<k8s.V1ConfigMap> | undefined;

  /** Wires a controller on this test's namespace: ConfigMaps name their Secret in data.secret. */
  function startController(reconcile: Reconciler): Promise<void> {
    const logger = recordingLogger(lines);
    const informer = new ResilientInformer<k8s.V1ConfigMap>({
      client,
      resource: CONFIG_MAPS,
      namespace,
      logger,
    });
    const secrets = new ResilientInformer<k8s.V1Secret>({
      client,
      resource: SECRETS,
      namespace,
      logger,
    });
    controller = new Controller({
      kind: 'ConfigMap',
      informer,
      watches: [
        {
          informer: secrets,
          toKeys: (secret: k8s.V1Secret) =>
            informer
              .list(namespace)
              .filter((cm) => cm.data?.secret === secret.metadata?.name)
              .map((cm) => `${namespace}/${cm.metadata?.name}`),
        },
      ],
      reconcile,
      logger,
      metrics: new ControllerMetrics(registry),
      workers: 2,
      queue: { backoff: { initialMs: 20, maxMs: 100 } },
    });
    return controller.start();
  }

  const createConfigMap = (name: string, secret = '') =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { secret } } });

  beforeEach(async () => {
    namespace = uniqueName('controller');
    lines = [];
    registry = new Registry();
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  afterEach(async () => {
    await controller?.stop();
    controller = undefined;
  });

  afterAll(() => client.close());

  it('reconciles each object, and those that reference a Secret when it changes', async () => {
    const calls: string[] = [];
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 's1' } } });
    await createConfigMap('uses-s1', 's1');
    await createConfigMap('uses-s2', 's2');

    await startController(async (key) => void calls.push(key));
    await eventually('both were reconciled', () => calls.length === 2);
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 's2' } } });
    await eventually('the Secret brought its user back', () => calls.length === 3);
    await createConfigMap('added-later');
    await eventually('the new object was reconciled', () => calls.length === 4);

    expect(calls.slice(0, 2).sort()).toEqual([`${namespace}/uses-s1`, `${namespace}/uses-s2`]);
    expect(calls.slice(2)).toEqual([`${namespace}/uses-s2`, `${namespace}/added-later`]);
  });

  it('retries failures with backoff, requeues on request, and leaves terminal errors', async () => {
    const calls = new Map<string, number>();
    const contexts: LogFields[] = [];
    for (const name of ['flaky', 'periodic', 'invalid']) await createConfigMap(name);

    await startController(async (_key, reconcileId, context) => {
      const count = (calls.get(context.name) ?? 0) + 1;
      calls.set(context.name, count);
      context.log.info('reconciling');
      contexts.push({ reconcileId, namespace: context.namespace, kind: context.kind });
      if (context.name === 'flaky' && count < 3) throw new Error('vault sealed');
      if (context.name === 'invalid') throw new TerminalError('the Secret holds no certificate');
      if (context.name === 'periodic' && count === 1) return { requeueAfterMs: 50 };
      return {};
    });
    await eventually('flaky succeeded', () => calls.get('flaky') === 3);
    await eventually('periodic came back', () => calls.get('periodic') === 2);
    await createConfigMap('sentinel');
    await eventually('the sentinel was reconciled', () => calls.has('sentinel'));
    const metrics = await registry.metrics();

    expect(calls.get('invalid')).toBe(1);
    expect(metrics).toContain('mtls_operator_reconcile_total{kind="ConfigMap",result="success"} 3');
    expect(metrics).toContain('mtls_operator_reconcile_total{kind="ConfigMap",result="requeue"} 1');
    expect(metrics).toContain('mtls_operator_reconcile_total{kind="ConfigMap",result="error"} 2');
    expect(metrics).toContain(
      'mtls_operator_reconcile_total{kind="ConfigMap",result="terminal"} 1',
    );
    expect(metrics).toContain('mtls_operator_reconcile_duration_seconds_count{kind="ConfigMap"} 7');
    expect(metrics).toContain('mtls_operator_workqueue_depth{kind="ConfigMap"} 0');
    expect(new Set(contexts.map((fields) => fields.reconcileId)).size).toBe(7);
    const reconciling = lines.filter((line) => line.message === 'reconciling');
    expect(reconciling.map((line) => Object.keys(line.fields).sort())).toEqual(
      Array(7).fill(['kind', 'name', 'namespace', 'reconcileId']),
    );
    const failures = lines.filter((line) => line.level === 'error');
    expect(failures.map((line) => `${line.fields.name}: ${line.message}`).sort()).toEqual([
      'flaky: reconcile failed, retrying',
      'flaky: reconcile failed, retrying',
      'invalid: reconcile failed, not retrying until the object changes',
    ]);
    expect(failures.every((line) => line.fields.err instanceof Error)).toBe(true);
  });

  it('waits for the reconcile under way when stopped', async () => {
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    let finished = false;
    await createConfigMap('slow');
    await startController(async () => {
      entered = true;
      await held;
      finished = true;
    });
    await eventually('the reconcile began', () => entered);

    const stopping = controller!.stop();
    controller = undefined;
    setImmediate(release);
    await stopping;

    expect(finished).toBe(true);
  });
});
