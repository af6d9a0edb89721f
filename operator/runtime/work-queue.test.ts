import { WorkQueue } from './work-queue';

/** A promise the test settles by hand, to hold a worker inside the processor. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Lets queued promise callbacks run. */
async function settle(): Promise<void> {
  for (let round = 0; round < 5; round += 1) await Promise.resolve();
}

describe('WorkQueue', () => {
  afterEach(() => jest.useRealTimers());

  it('keeps a key that is added again while it waits only once', async () => {
    const queue = new WorkQueue();
    const processed: string[] = [];

    queue.add('default/a');
    queue.add('default/b');
    queue.add('default/a');
    expect(queue.depth).toBe(2);

    queue.run(async (key) => void processed.push(key));
    await settle();

    expect(processed).toEqual(['default/a', 'default/b']);
    expect(queue.depth).toBe(0);
  });

  it('never hands one key to two workers, and runs it again once if added meanwhile', async () => {
    const queue = new WorkQueue();
    const first = gate();
    const processed: string[] = [];
    let inFlight = 0;
    let mostInFlight = 0;

    queue.run(async (key) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      processed.push(key);
      if (processed.length === 1) await first.opened;
      inFlight -= 1;
    }, 4);
    queue.add('a');
    await settle();
    queue.add('a');
    queue.add('a');
    await settle();

    expect(processed).toEqual(['a']);
    first.open();
    await settle();

    expect(processed).toEqual(['a', 'a']);
    expect(mostInFlight).toBe(1);
  });

  it('processes different keys concurrently up to the number of workers', async () => {
    const queue = new WorkQueue();
    const hold = gate();
    const started: string[] = [];

    queue.run(async (key) => {
      started.push(key);
      await hold.opened;
    }, 2);
    for (const key of ['a', 'b', 'c']) queue.add(key);
    await settle();

    expect(started).toEqual(['a', 'b']);
    expect(queue.depth).toBe(1);
    hold.open();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('doubles the backoff of a failing key up to the cap, and forget resets it', () => {
    const queue = new WorkQueue();

    const delays = Array.from({ length: 14 }, () => queue.addRateLimited('a'));

    expect(delays.slice(0, 5)).toEqual([200, 400, 800, 1600, 3200]);
    expect(delays.at(-1)).toBe(5 * 60_000);
    expect(queue.retries('a')).toBe(14);
    expect(queue.addRateLimited('b')).toBe(200);
    queue.forget('a');
    expect(queue.retries('a')).toBe(0);
    expect(queue.addRateLimited('a')).toBe(200);
    void queue.shutDown();
  });

  it('queues a key given to addAfter once the delay passed, keeping the earliest schedule', () => {
    jest.useFakeTimers();
    const queue = new WorkQueue();

    queue.addAfter('a', 1000);
    queue.addAfter('a', 5000);
    queue.addAfter('b', 0);
    expect(queue.depth).toBe(1);

    jest.advanceTimersByTime(999);
    expect(queue.depth).toBe(1);
    jest.advanceTimersByTime(1);
    expect(queue.depth).toBe(2);
    jest.advanceTimersByTime(10_000);
    expect(queue.depth).toBe(2);
  });

  it('retries a key whose processing failed after its backoff', async () => {
    jest.useFakeTimers();
    const queue = new WorkQueue({ backoff: { initialMs: 100, maxMs: 1000 } });
    const attempts: string[] = [];

    queue.run(async (key) => {
      attempts.push(key);
      if (attempts.length === 1) throw new Error('apiserver unavailable');
    });
    queue.add('a');
    await settle();
    expect(attempts).toEqual(['a']);
    expect(queue.retries('a')).toBe(1);

    jest.advanceTimersByTime(100);
    await settle();
    expect(attempts).toEqual(['a', 'a']);
  });

  it('on shutDown drops waiting keys, ignores new ones, resolves when workers finish', async () => {
    const queue = new WorkQueue();
    const hold = gate();
    const processed: string[] = [];
    let finished = false;

    queue.run(async (key) => {
      processed.push(key);
      await hold.opened;
      finished = true;
    });
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 10);
    await settle();

    let drained = false;
    const shutDown = queue.shutDown().then(() => (drained = true));
    queue.add('d');
    await settle();
    expect(drained).toBe(false);
    expect(queue.depth).toBe(0);

    hold.open();
    await shutDown;
    expect(finished).toBe(true);
    expect(processed).toEqual(['a']);
    expect(queue.isShuttingDown).toBe(true);
  });

  it('resolves shutDown at once when nothing is in flight', async () => {
    const queue = new WorkQueue();
    queue.add('a');

    await expect(queue.shutDown()).resolves.toBeUndefined();
  });
});
