import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { currentProcessOwner, ownerLiveness, parseProcessOwner } from '../../../src/core/liveness/processOwner';
import { deadProcessId } from '../history/deadProcessId';

describe('ownerLiveness', () => {
  it('sees this process and a running child as alive, and a child that exited as gone', async () => {
    assert.equal(ownerLiveness(currentProcessOwner()), 'alive');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => undefined, 60_000)'], { stdio: 'ignore' });
    try {
      assert.equal(ownerLiveness({ pid: child.pid!, host: currentProcessOwner().host }), 'alive');
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    assert.equal(ownerLiveness({ ...currentProcessOwner(), pid: await deadProcessId() }), 'gone');
  });

  it('tells a process that reused the pid, or an earlier boot, from the owner', function () {
    if (process.platform !== 'linux') {
      this.skip(); // Start times and boot ids come from /proc.
    }
    assert.equal(ownerLiveness({ ...currentProcessOwner(), startTime: '1' }), 'gone');
    assert.equal(ownerLiveness({ ...currentProcessOwner(), bootId: '00000000-0000-0000-0000-000000000000' }), 'gone');
  });

  it('cannot judge an owner on another host, in another pid namespace or on another machine of the same name', () => {
    assert.equal(ownerLiveness({ ...currentProcessOwner(), host: 'other-host.example' }), 'unknown');
    assert.equal(ownerLiveness({ ...currentProcessOwner(), pidNamespace: 'pid:[1]' }), 'unknown');
    // Another machine with this host name: its boot id differs too, which must not read as "this machine rebooted".
    const twin = { ...currentProcessOwner(), machineId: 'f'.repeat(32), bootId: '00000000-0000-0000-0000-000000000000', pid: 1 };
    assert.equal(ownerLiveness(twin), 'unknown');
  });

  it('reads back what it writes, and refuses what is not an owner', () => {
    assert.deepEqual(parseProcessOwner(JSON.stringify(currentProcessOwner())), currentProcessOwner());
    assert.equal(parseProcessOwner('{"pid":0,"host":"h"}'), undefined);
    assert.equal(parseProcessOwner('{"pid":12}'), undefined);
    assert.equal(parseProcessOwner('not json'), undefined);
  });
});
