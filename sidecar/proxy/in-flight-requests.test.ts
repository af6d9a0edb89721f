import { InFlightRequests } from './in-flight-requests';

describe('InFlightRequests', () => {
  it('drains at once when nothing is in flight', async () => {
    await expect(new InFlightRequests().drainWithin(10)).resolves.toBe(true);
  });

  it('drains when the last request finishes before the deadline', async () => {
    const requests = new InFlightRequests();
    requests.started();
    requests.started();
    const drained = requests.drainWithin(5_000);

    requests.finished();
    expect(requests.size).toBe(1);
    requests.finished();

    await expect(drained).resolves.toBe(true);
    expect(requests.size).toBe(0);
  });

  it('gives up at the deadline while a request is still in flight', async () => {
    const requests = new InFlightRequests();
    requests.started();

    await expect(requests.drainWithin(20)).resolves.toBe(false);
    expect(requests.size).toBe(1);
  });

  it('waits without a deadline when none is given', async () => {
    const requests = new InFlightRequests();
    requests.started();
    let settled = false;
    const drained = requests.drainWithin(undefined).then((done) => (settled = done));

    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(settled).toBe(false);
    requests.finished();
    await drained;
    expect(settled).toBe(true);
  });
});
