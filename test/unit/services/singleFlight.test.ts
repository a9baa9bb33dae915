import * as assert from 'node:assert/strict';
import { SingleFlight } from '../../../src/services/singleFlight';

describe('one backup batch (or restore) at a time', () => {
  it('refuses a second start made before the first awaited anything, and keeps the first cancellable', async () => {
    const flight = new SingleFlight();
    const signals: AbortSignal[] = [];
    const work = async (signal: AbortSignal): Promise<string> => {
      signals.push(signal);
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return 'cancelled';
    };
    const first = flight.start(work);
    const second = flight.start(work);
    assert.ok(first);
    assert.equal(second, undefined);
    assert.equal(signals.length, 1);
    assert.equal(flight.cancel('by the user'), true);
    assert.equal(await first, 'cancelled');
    assert.equal(flight.isRunning, false);
    assert.ok(flight.start(async () => 'next'), 'a new start is taken once the first has ended');
  });

  it('stop resolves once the work settles, or after the time limit when it does not', async () => {
    const flight = new SingleFlight();
    let cleanedUp = false;
    void flight.start(async (signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      cleanedUp = true;
    });
    await flight.stop('closing', 5_000);
    assert.equal(cleanedUp, true);

    void flight.start(() => new Promise<void>(() => undefined));
    const started = Date.now();
    await flight.stop('closing', 100);
    assert.ok(Date.now() - started < 2_000, 'a hung piece of work does not hold stop up past its limit');
  });
});
