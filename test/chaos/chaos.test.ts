import assert from 'node:assert/strict';
import { runChaos } from './chaosRun';

const kills = Number(process.env.NKVM_CHAOS_KILLS ?? 6);
const seed = Number(process.env.NKVM_CHAOS_SEED ?? Date.now() % 1_000_000);
const leaseSeconds = 8;

describe('chaos: nkvm processes killed mid-run while the cluster misbehaves', function () {
  this.timeout(600_000);

  it(`leaves no helper running past its lease, no stale partial file, no row stuck running and no broken archive (${kills} kills, seed ${seed})`, async () => {
    const counts = await runChaos({ kills, seed, leaseSeconds, log: (line) => process.stdout.write(`      ${line}\n`) });
    const f = counts.findings;
    process.stdout.write(`      ${JSON.stringify({ ...counts, findings: undefined })}\n      ${JSON.stringify(f)}\n`);
    assert.equal(f.historyIntegrity, 'ok', 'the history file is intact');
    assert.deepEqual(f.successRowsWithBadArchive, [], 'every success row has its archive with the recorded checksum');
    assert.deepEqual(f.brokenArchives, [], 'no archive under a final name is broken');
    assert.deepEqual(f.helpersRunning, [], `no helper pod runs ${leaseSeconds} + 30 s after the last kill`);
    assert.ok(counts.helpersEndedAfterSeconds <= leaseSeconds + 30, `helpers ended ${counts.helpersEndedAfterSeconds} s after the last kill`);
    assert.deepEqual(f.stalePartials, [], 'the next run removed the partial files of dead processes');
    assert.equal(f.rowsStuckRunning, 0, `no row is left running: ${f.stuckRows.join('\n')}`);
    assert.ok(counts.kills >= kills);
  });
});
