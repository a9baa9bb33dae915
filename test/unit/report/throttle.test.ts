import * as assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Throttle } from '../../../src/report/throttle';

describe('Throttle', () => {
  it('runs the first request at once and collapses a burst into one more run', async () => {
    let runs = 0;
    const throttle = new Throttle(() => runs++, 50);
    throttle.schedule();
    assert.equal(runs, 1);
    for (let i = 0; i < 20; i++) throttle.schedule();
    assert.equal(runs, 1);
    await sleep(80);
    assert.equal(runs, 2);
    throttle.dispose();
  });

  it('runs nothing after dispose', async () => {
    let runs = 0;
    const throttle = new Throttle(() => runs++, 30);
    throttle.schedule();
    throttle.schedule();
    throttle.dispose();
    await sleep(60);
    throttle.schedule();
    assert.equal(runs, 1);
  });
});
