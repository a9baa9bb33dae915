import assert from 'node:assert/strict';
import { helperIdentity } from '../../../src/core/backup/helperIdentity';
import { helperPodSpec } from '../../../src/core/backup/helperPodSpec';
import { restoreHelperPod } from '../../../src/core/restore/restoreHelperPodSpec';

function backupHelper(runAsRoot: boolean, consumer: { runAsUser?: number; runAsGroup?: number } = {}) {
  return helperPodSpec({ namespace: 'team-a', pvc: 'data', runId: 'r1', image: 'alpine:3.20', deadlineSeconds: 600, identity: helperIdentity(consumer, runAsRoot) });
}

describe('restore helper pod', () => {
  it('asks the kubelet to hand a new claim to the non-root helper group (fsGroup, only when the root mismatches)', () => {
    const pod = restoreHelperPod(backupHelper(false), 'data', { newClaim: true });
    assert.equal(pod.spec?.securityContext?.fsGroup, 65534);
    assert.equal(pod.spec?.securityContext?.fsGroupChangePolicy, 'OnRootMismatch');
    assert.equal(pod.spec?.securityContext?.runAsUser, 65534);
  });

  it('uses the group the helper runs as for a new claim', () => {
    const pod = restoreHelperPod(backupHelper(false, { runAsUser: 999, runAsGroup: 998 }), 'data', { newClaim: true });
    assert.equal(pod.spec?.securityContext?.fsGroup, 998);
  });

  it('never sets fsGroup on an existing claim, whose files would all change group', () => {
    const pod = restoreHelperPod(backupHelper(false), 'data');
    assert.equal(pod.spec?.securityContext?.fsGroup, undefined);
    assert.equal(pod.spec?.securityContext?.fsGroupChangePolicy, undefined);
  });

  it('leaves a root helper without fsGroup: it writes a root-owned volume root as it is', () => {
    const pod = restoreHelperPod(backupHelper(true), 'data', { newClaim: true });
    assert.equal(pod.spec?.securityContext?.fsGroup, undefined);
    assert.deepEqual(pod.spec?.containers[0]?.securityContext?.capabilities?.add, ['DAC_OVERRIDE', 'CHOWN', 'FOWNER', 'FSETID']);
  });

  it('mounts the claim read-write under a restore name', () => {
    const pod = restoreHelperPod(backupHelper(false), 'data', { newClaim: true });
    assert.match(pod.metadata?.generateName ?? '', /^nkvm-restore-data-$/);
    assert.equal(pod.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.readOnly, undefined);
    assert.equal(pod.spec?.containers[0]?.volumeMounts?.find((m) => m.mountPath === '/data')?.readOnly, undefined);
  });
});
