import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { types } from '../../sandbox/cluster/types';
import { archiveEntries, folderEntries } from '../treeListing';
import { requireKubectl, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('the installed kubectl against the sandbox cluster', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;

  before(async function () {
    requireKubectl(this);
    sb = await startSandbox();
  });
  after(async () => sb?.stop());

  it('lists the demo namespaces with `get ns`', async () => {
    const r = await sb.kubectl(['get', 'ns', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    const names = r.stdout.toString().trim().split('\n');
    for (const ns of ['namespace/shop', 'namespace/analytics', 'namespace/media']) assert.ok(names.includes(ns), `${ns} in ${names}`);
  });

  it('lists claims across namespaces with `get pvc -A`', async () => {
    const r = await sb.kubectl(['get', 'pvc', '-A']);
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.toString();
    for (const pvc of ['storefront-uploads', 'data-orders-db-0', 'reports', 'archive-2019', 'scratch']) assert.match(text, new RegExp(`\\b${pvc}\\b`));
  });

  it('applies a pod that mounts a demo claim, waits for Ready, streams a tar of the volume over exec and deletes it', async () => {
    const manifest = join(sb.dir, 'pod.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: reader, namespace: media}',
        'spec:',
        '  containers:',
        '  - name: main',
        '    image: alpine:3.20',
        // Stops on SIGTERM, as a server does, so the delete below does not wait out the grace period.
        '    command: [sh, -c, "trap \'exit 0\' TERM; sleep infinity & wait"]',
        '    volumeMounts: [{name: data, mountPath: /data, readOnly: true}]',
        '  volumes:',
        '  - name: data',
        '    persistentVolumeClaim: {claimName: archive-2019}',
        '',
      ].join('\n'),
    );
    const applied = await sb.kubectl(['apply', '-f', manifest]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout.toString(), /pod\/reader created/);

    const waited = await sb.kubectl(['-n', 'media', 'wait', '--for=condition=Ready', 'pod/reader', '--timeout=20s']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout.toString(), /condition met/);

    const exec = await sb.kubectl(['-n', 'media', 'exec', 'reader', '--', 'tar', 'czf', '-', '-C', '/data', '.']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.deepEqual(archiveEntries(exec.stdout), folderEntries(sb.cluster.volumePath('media', 'archive-2019')).map((e) => `./${e.slice(2)}`));

    const deleted = await sb.kubectl(['-n', 'media', 'delete', 'pod', 'reader']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout.toString(), /pod "reader" deleted/);
    assert.equal(sb.cluster.store.get(types.pods, 'media', 'reader'), undefined, 'the pod is gone when delete returns');
  });

  it('refuses a pod whose CPU limit is not a quantity, with the API server\'s message, and stores nothing', async () => {
    const manifest = join(sb.dir, 'bad-quantity.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: greedy, namespace: media}',
        'spec:',
        '  containers: [{name: main, image: alpine:3.20, command: [sleep, "60"], resources: {limits: {cpu: lots, memory: 64Mi}}}]',
      ].join('\n'),
    );
    const r = await sb.kubectl(['create', '-f', manifest]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /BadRequest.*quantities must match the regular expression/);
    assert.equal(sb.cluster.store.get(types.pods, 'media', 'greedy'), undefined);
  });

  it('reports a failing command through `exec` with its exit code', async () => {
    const r = await sb.kubectl(['-n', 'shop', 'exec', 'orders-db-0', '--', 'sh', '-c', 'echo oops >&2; exit 7']);
    assert.equal(r.code, 7);
    assert.match(r.stderr, /oops/);
  });

  it('answers `auth can-i create pods --subresource=exec` from the access rules, including an injected denial', async () => {
    const yes = await sb.kubectl(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'shop']);
    assert.equal(yes.stdout.toString().trim(), 'yes');
    const undo = sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'shop' });
    try {
      const no = await sb.kubectl(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'shop']);
      assert.equal(no.stdout.toString().trim(), 'no');
      assert.equal(no.code, 1);
      const other = await sb.kubectl(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'media']);
      assert.equal(other.stdout.toString().trim(), 'yes');
    } finally {
      undo();
    }
  });

  it('prints the server’s Status message when exec is forbidden', async () => {
    const undo = sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'shop' });
    try {
      const r = await sb.kubectl(['-n', 'shop', 'exec', 'orders-db-0', '--', 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /forbidden/i);
    } finally {
      undo();
    }
  });
});
