import assert from 'node:assert/strict';
import type { V1ContainerStatus } from '@kubernetes/client-node';
import { imageToolsNextStep, missingCommandIn, missingShellIn } from '../../../src/core/backup/helperImageTools';

function terminated(reason: string, message: string): V1ContainerStatus {
  return { name: 'helper', image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 128, reason, message } } };
}

describe('helper image tools', () => {
  it('recognises a container whose image has no shell, in the words of runc and crun', () => {
    const runc =
      'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "sh": executable file not found in $PATH: unknown';
    assert.equal(missingShellIn(terminated('StartError', runc)), 'sh');
    const absolute = 'OCI runtime create failed: runc create failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such file or directory: unknown';
    assert.equal(missingShellIn(terminated('StartError', absolute)), 'sh');
    const crun = 'container create failed: executable file `sh` not found in $PATH: No such file or directory';
    assert.equal(missingShellIn({ ...terminated('x', ''), state: { waiting: { reason: 'CreateContainerError', message: crun } } }), 'sh');
    const restarted: V1ContainerStatus = { ...terminated('x', ''), state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated('StartError', runc).state! };
    assert.equal(missingShellIn(restarted), 'sh');
  });

  it('does not blame the image for other start failures', () => {
    assert.equal(missingShellIn(terminated('Error', 'exec: "sh": executable file not found in $PATH')), undefined);
    assert.equal(missingShellIn(terminated('StartError', 'failed to create shim task: OCI runtime create failed: cgroup: out of memory')), undefined);
    assert.equal(missingShellIn(undefined), undefined);
  });

  it('names the command a shell could not find after exit 127 (BusyBox, dash, bash)', () => {
    assert.equal(missingCommandIn(127, 'sh: tar: not found\n'), 'tar');
    assert.equal(missingCommandIn(127, 'nkvm: the helper image has no sha256sum\n'), 'sha256sum');
    assert.equal(missingCommandIn(127, 'some output\nsh: 1: sha256sum: not found\n'), 'sha256sum');
    assert.equal(missingCommandIn(127, 'bash: line 3: gzip: command not found\n'), 'gzip');
    assert.equal(missingCommandIn(2, 'sh: tar: not found\n'), undefined);
    assert.equal(missingCommandIn(127, 'tar: ./x: Cannot open: No such file or directory\n'), undefined);
  });

  it('tells what image to use instead', () => {
    const text = imageToolsNextStep('gcr.io/distroless/static-debian12', 'shell (sh)');
    assert.match(text, /"gcr\.io\/distroless\/static-debian12" has no shell \(sh\)/);
    assert.match(text, /nkvm\.helperImage/);
    assert.match(text, /debian:12-slim/);
  });
});
