import { AccessLog } from './access-log';

describe('AccessLog', () => {
  it('writes the lines of one turn of the event loop in one write, as JSON', async () => {
    const writes: string[] = [];
    const log = new AccessLog({ write: (text: string) => writes.push(text) }, 'sidecar', true);

    log.write({ method: 'GET', host: 'a.example', status: 200, durationMs: 3, mapping: 'm' });
    log.write({ method: 'PUT', service: 'say "hi"\n', status: 502, durationMs: 12 });
    await new Promise((resolve) => setImmediate(resolve));

    expect(writes).toHaveLength(1);
    const lines = writes[0]
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      {
        component: 'sidecar',
        level: 'info',
        message: 'request',
        method: 'GET',
        host: 'a.example',
        status: 200,
        durationMs: 3,
        mapping: 'm',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
      expect.objectContaining({ method: 'PUT', service: 'say "hi"\n', status: 502 }),
    ]);
  });

  it('writes nothing when the log level is above info', async () => {
    const writes: string[] = [];
    const log = new AccessLog({ write: (text: string) => writes.push(text) }, 'sidecar', false);

    log.write({ method: 'GET', status: 200, durationMs: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    log.flush();

    expect(writes).toEqual([]);
  });
});
