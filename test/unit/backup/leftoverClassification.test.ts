import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEASE_ANNOTATIONS } from '../../../src/core/backup/helperOwner';
import { classifyHelper, LEASE_MARGIN_SECONDS } from '../../../src/core/backup/leftoverClassification';

// Helper pods as the API server returned them (test/fixtures/helper-pods/recordHelperPods.ts).
const recorded = (name: string): V1Pod => JSON.parse(readFileSync(join(__dirname, '../../fixtures/helper-pods', `${name}.json`), 'utf8')) as V1Pod;
const renewedAt = (pod: V1Pod): number => Date.parse(pod.metadata!.annotations![LEASE_ANNOTATIONS.renewedAt]);
const created = (pod: V1Pod): number => new Date(pod.metadata!.creationTimestamp!).getTime();
const renewed = (pod: V1Pod, at: number): V1Pod => {
  const copy = structuredClone(pod);
  copy.metadata!.annotations![LEASE_ANNOTATIONS.renewedAt] = new Date(at).toISOString().replace(/\.\d+Z$/, 'Z');
  return copy;
};

describe('which helper pods are left over', () => {
  const running = recorded('running-leased');
  const lease = Number(running.metadata!.annotations![LEASE_ANNOTATIONS.leaseSeconds]);

  it('never offers a running helper whose lease is fresh, naming who holds it', () => {
    for (const after of [0, lease, lease + LEASE_MARGIN_SECONDS]) {
      const verdict = classifyHelper(running, renewedAt(running) + after * 1000);
      assert.equal(verdict.leftover, false, `offered ${after} s after its renewal`);
      assert.match(verdict.reason, /^in use by the nkvm command \(pid \d+ on .+\): lease renewed \d+ (s|min) ago$/);
    }
  });

  it('offers a running helper whose lease ran out (its owner was killed)', () => {
    const verdict = classifyHelper(running, renewedAt(running) + (lease + LEASE_MARGIN_SECONDS + 1) * 1000);
    assert.equal(verdict.leftover, true);
    assert.match(verdict.reason, /^its lease ran out: the nkvm command \(pid \d+ on .+\) last renewed it 3 min ago \(lease 2 min\)$/);
  });

  it('keeps a helper that was created long ago but renewed just now (a long backup)', () => {
    const now = created(running) + 20 * 3600_000;
    assert.equal(classifyHelper(renewed(running, now - 5000), now).leftover, false);
  });

  it('offers a helper that ended (deadline exceeded) whatever its lease says', () => {
    const failed = recorded('failed-deadline');
    const verdict = classifyHelper(failed, renewedAt(failed));
    assert.deepEqual(verdict, { leftover: true, reason: 'it has ended (Failed, DeadlineExceeded)' });
  });

  it('offers a helper past its deadline even with a fresh lease', () => {
    const now = created(running) + (86400 + 60) * 1000;
    const verdict = classifyHelper(renewed(running, now), now);
    assert.equal(verdict.leftover, true);
    assert.match(verdict.reason, /past its 86400 s deadline/);
  });

  it('keeps a helper made without a lease until its deadline, then offers it', () => {
    const legacy = recorded('running-no-lease');
    const young = classifyHelper(legacy, created(legacy) + 3600_000);
    assert.equal(young.leftover, false);
    assert.match(young.reason, /carries no lease .* kept until its deadline \(5 h from now\)/);
    const old = classifyHelper(legacy, created(legacy) + 21601_000);
    assert.deepEqual(old, { leftover: true, reason: 'it is 6 h old, past its 21600 s deadline' });
  });

  it('does not offer a helper that is already being deleted', () => {
    const terminating = recorded('terminating-leased');
    const verdict = classifyHelper(terminating, renewedAt(terminating) + 3600_000);
    assert.deepEqual(verdict, { leftover: false, reason: 'it is already being deleted' });
  });
});
