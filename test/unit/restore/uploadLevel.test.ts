import assert from 'node:assert/strict';
import { UploadLevelChooser, type UploadLevel } from '../../../src/core/restore/uploadLevel';

/**
 * Drives the chooser as the upload does (a tick every 250 ms) against a link whose speed at each level is
 * given in uncompressed MB/s, on a clock of its own; answers the levels it used, one per tick.
 */
function drive(seconds: number, rateAt: (level: UploadLevel, second: number) => number): UploadLevel[] {
  let now = 0;
  let bytes = 0;
  const chooser = new UploadLevelChooser({ now: () => now });
  const used: UploadLevel[] = [];
  for (let tick = 0; tick < seconds * 4; tick++) {
    const level = chooser.level;
    used.push(level);
    now += 250;
    bytes += (rateAt(level, now / 1000) * 1e6) / 4;
    chooser.tick(bytes);
  }
  return used;
}

const share = (used: UploadLevel[], level: UploadLevel) => used.filter((l) => l === level).length / used.length;

describe('choosing how a merged chain is compressed on its way to the helper', () => {
  it('compresses on a slow link, where fewer bytes move the volume faster', () => {
    // 10 MB/s on the wire; gzip -1 halves the bytes.
    const used = drive(60, (level) => (level === 1 ? 20 : 10));
    assert.ok(share(used, 1) > 0.75, `gzip -1 most of the time: ${share(used, 1)}`);
    assert.equal(used.at(-1), 1);
  });

  it('stores blocks where compression is what holds the upload back', () => {
    const used = drive(60, (level) => (level === 1 ? 60 : 150));
    assert.ok(share(used, 0) > 0.75, `stored most of the time: ${share(used, 0)}`);
    assert.equal(used.at(-1), 0);
  });

  it('follows the link when it changes: measures the other level again and switches', () => {
    // Fast for 30 s (storing wins), then the link slows down (compressing wins).
    const used = drive(80, (level, second) => (second < 30 ? (level === 0 ? 150 : 60) : level === 0 ? 8 : 16));
    assert.equal(used[4 * 25], 0);
    assert.equal(used.at(-1), 1);
    const lateShare = share(used.slice(4 * 50), 1);
    assert.ok(lateShare > 0.75, `gzip -1 once the link is slow: ${lateShare}`);
  });

  it('leaves out the first window (buffers filling) and the window after a switch (blocks made at the level before)', () => {
    let now = 0;
    const chooser = new UploadLevelChooser({ now: () => now, windowMs: 1000 });
    assert.equal(chooser.level, 1);
    now = 1000;
    chooser.tick(50e6); // buffers filling: left out
    assert.equal(chooser.measured.get(1), undefined);
    now = 2000;
    chooser.tick(70e6); // gzip -1: 20 MB/s, then stored is measured
    assert.equal(chooser.measured.get(1), 20e6);
    assert.equal(chooser.level, 0);
    now = 3000;
    chooser.tick(90e6); // settling: left out
    assert.equal(chooser.measured.get(0), undefined);
    now = 4000;
    chooser.tick(94e6); // stored: 4 MB/s
    assert.equal(chooser.measured.get(0), 4e6);
    assert.equal(chooser.level, 1);
  });
});
