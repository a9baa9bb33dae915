import assert from 'node:assert/strict';
import { describeWriteProblems, writeProblemOf, writeProblems } from '../../../src/core/restore/writeProblems';

describe('why a restore could not write', () => {
  it('reads permission, read-only and full-volume messages of BusyBox and GNU tar and rm', () => {
    assert.deepEqual(writeProblemOf("tar: can't create directory './assets': Permission denied"), { kind: 'permission', path: 'assets' });
    assert.deepEqual(writeProblemOf('tar: can\'t remove old file ./dir393/file042.txt: Permission denied'), { kind: 'permission', path: 'dir393/file042.txt' });
    assert.deepEqual(writeProblemOf("rm: can't remove './dir167/file055.txt': Permission denied"), { kind: 'permission', path: 'dir167/file055.txt' });
    assert.deepEqual(writeProblemOf("rm: cannot remove './x y': Permission denied"), { kind: 'permission', path: 'x y' });
    assert.deepEqual(writeProblemOf('tar: ./assets: Cannot mkdir: Permission denied'), { kind: 'permission', path: 'assets' });
    assert.deepEqual(writeProblemOf('tar: ./a/b.txt: Cannot open: Read-only file system'), { kind: 'readOnly', path: 'a/b.txt' });
    assert.deepEqual(writeProblemOf('tar: ./big.bin: Cannot write: No space left on device'), { kind: 'noSpace', path: 'big.bin' });
    assert.deepEqual(writeProblemOf('tar: write error: No space left on device'), { kind: 'noSpace' });
  });

  it('leaves out what the helper may not change about the volume root, and unrelated lines', () => {
    assert.equal(writeProblemOf('tar: .: Cannot utime: Operation not permitted'), undefined);
    assert.equal(writeProblemOf('tar: ./: Cannot mkdir: Permission denied'), undefined);
    assert.equal(writeProblemOf('tar: Exiting with failure status due to previous errors'), undefined);
    assert.equal(writeProblemOf('tar: short read'), undefined);
  });

  it('names the most telling problem with its first paths and a count', () => {
    const lines = Array.from({ length: 9 }, (_, i) => `tar: can't remove old file ./f${i}: Permission denied`);
    assert.deepEqual(writeProblems(lines), { kind: 'permission', paths: ['f0', 'f1', 'f2', 'f3', 'f4'], count: 9 });
    assert.equal(writeProblems([...lines, 'tar: ./x: Cannot write: No space left on device'])?.kind, 'noSpace');
    assert.equal(writeProblems(['tar: short read']), undefined);
  });

  it('sends a non-root helper to the owner or root settings, never to the network', () => {
    const problems = { kind: 'permission' as const, paths: ['dir393/file042.txt'], count: 1 };
    const ctx = { namespace: 'team-a', pvc: 'many', runAs: 'uid 65534, gid 65534 (nobody)', runsAsRoot: false, newClaim: false };
    const { cause, nextStep } = describeWriteProblems(problems, ctx);
    assert.match(cause, /running as uid 65534.*may not write one path \(Permission denied: dir393\/file042\.txt\)/);
    assert.match(nextStep, /belong to another user.*nkvm\.helper\.runAsUser.*"team-a\/many": "999:999".*nkvm\.helper\.runAsRoot/);
    assert.doesNotMatch(nextStep, /connection|exec permission/);
    assert.match(describeWriteProblems(problems, { ...ctx, newClaim: true }).nextStep, /fsGroup support, such as NFS/);
    assert.match(describeWriteProblems({ kind: 'noSpace', paths: [], count: 1 }, ctx).cause, /team-a\/many is full/);
  });
});
