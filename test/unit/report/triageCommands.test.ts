import * as assert from 'node:assert/strict';
import { shellWord, triageCommands } from '../../../src/core/report/triageCommands';

describe('triageCommands', () => {
  it('gives the runbook commands for the failure namespace', () => {
    const commands = triageCommands({ namespace: 'shop', stage: 'create' }).map((c) => c.command);
    assert.deepEqual(commands, [
      'kubectl get pods -A -l app.kubernetes.io/component=backup-helper',
      'kubectl -n shop get events --sort-by=.lastTimestamp | tail -n 40',
      'kubectl auth can-i create pods --namespace shop',
      'kubectl auth can-i create pods --subresource=exec --namespace shop',
    ]);
  });

  it('names the context, so a paste never asks another cluster', () => {
    const [first] = triageCommands({ context: 'arn:aws:eks:eu-west-1:123456789012:cluster/prod', namespace: 'shop' });
    assert.equal(first!.command, 'kubectl --context arn:aws:eks:eu-west-1:123456789012:cluster/prod get pods -A -l app.kubernetes.io/component=backup-helper');
  });

  it('adds the delete command for a helper pod left behind by a cleanup failure', () => {
    const commands = triageCommands({ namespace: 'media', stage: 'cleanup', helperPod: 'nkvm-backup-uploads-5d2e' });
    assert.equal(commands.at(-1)!.command, 'kubectl -n media delete pod nkvm-backup-uploads-5d2e --ignore-not-found');
  });

  it('lists the helper pods instead when the cleanup failure did not name one', () => {
    const commands = triageCommands({ namespace: 'media', stage: 'cleanup' });
    assert.equal(commands.at(-1)!.command, 'kubectl -n media get pods -l app.kubernetes.io/component=backup-helper');
    assert.ok(commands.every((c) => !c.command.includes('delete')));
  });

  it('quotes values that a shell would interpret', () => {
    const [, events] = triageCommands({ context: "dev'; rm -rf ~; echo '", namespace: 'shop' });
    assert.equal(events!.command, `kubectl --context 'dev'\\''; rm -rf ~; echo '\\''' -n shop get events --sort-by=.lastTimestamp | tail -n 40`);
    assert.equal(shellWord('kind-dev'), 'kind-dev');
    assert.equal(shellWord('my context'), "'my context'");
    assert.equal(shellWord('$(id)'), "'$(id)'");
  });

  it('points at the pod a failed hook ran in, quoting its names', () => {
    const commands = triageCommands({ namespace: 'shop', stage: 'hook', failedHook: { pod: 'orders-db-0', container: "pg'sql" } }).map((c) => c.command);
    assert.ok(commands.includes('kubectl -n shop describe pod orders-db-0'));
    assert.ok(commands.includes(`kubectl -n shop logs orders-db-0 -c 'pg'\\''sql' --tail=40`));
  });

  it('looks for the snapshot and the temporary claim by their events and labels', () => {
    const snapshot = triageCommands({ namespace: 'media', stage: 'snapshot' }).map((c) => c.command);
    assert.ok(snapshot.includes('kubectl -n media get events --field-selector involvedObject.kind=VolumeSnapshot'));
    assert.ok(snapshot.includes('kubectl -n media get volumesnapshot -l app.kubernetes.io/component=backup-snapshot'));
    const clone = triageCommands({ namespace: 'media', stage: 'clone' }).map((c) => c.command);
    assert.ok(clone.includes('kubectl -n media get pvc -l app.kubernetes.io/component=snapshot-claim'));
    assert.ok(!triageCommands({ namespace: 'media', stage: 'wait' }).some((c) => /volumesnapshot|events --field-selector/.test(c.command)));
  });
});
