import assert from 'node:assert/strict';
import { parsePodSecurityRefusal, podSecurityFix } from '../../../src/core/backup/podSecurityRefusal';
import { describeUnreadable, unreadablePaths } from '../../../src/core/backup/unreadablePaths';

describe('reading Pod Security refusals and tar permission errors', () => {
  // The message format of k8s.io/pod-security-admission, details with commas and parentheses included.
  const message =
    'forbidden: violates PodSecurity "restricted:v1.32": host namespaces (hostNetwork, hostPID), runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false), runAsUser=0 (pod must not set runAsUser=0), seccompProfile (pod or container "helper" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

  it('splits the violated rules at top-level commas only', () => {
    const refusal = parsePodSecurityRefusal(message)!;
    assert.equal(refusal.policy, 'restricted:v1.32');
    assert.deepEqual(refusal.rules, ['host namespaces', 'runAsNonRoot != true', 'runAsUser=0', 'seccompProfile']);
    assert.equal(parsePodSecurityRefusal('forbidden: User "x" cannot create resource "pods"'), undefined);
  });

  it('names the setting for a root helper and the other rules for the rest', () => {
    const fix = podSecurityFix('secure', parsePodSecurityRefusal(message)!);
    assert.match(fix, /remove "secure" from nkvm\.helper\.runAsRoot/);
    assert.match(fix, /breaks "host namespaces", "seccompProfile"/);
  });

  it('finds unreadable paths in BusyBox and GNU tar messages', () => {
    const lines = [
      "tar: can't open './pgdata/root-only.key': Permission denied",
      'tar: ./private: Permission denied',
      'tar: ./gnu/file: Cannot open: Permission denied',
      'tar: ./log/app.log: file changed as we read it',
      'tar: error exit delayed from previous errors',
    ];
    assert.deepEqual(unreadablePaths(lines), ['pgdata/root-only.key', 'private', 'gnu/file']);
    assert.equal(describeUnreadable(3, ['a', 'b', 'c'], 2), '3 unreadable files, first ones: a, b');
    assert.equal(describeUnreadable(1, ['a']), '1 unreadable file: a');
  });
});
