import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { SandboxFixture, startSandbox } from '../sandboxFixture';
import { runNkvm, sandboxEnv } from './runNkvm';

describe('the nkvm command line', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  before(async () => (sb = await startSandbox()));
  afterEach(() => sb.cluster.faults.clear());
  after(async () => sb?.stop());

  const nkvm = (args: string[]) => runNkvm(args, { cwd: sb.dir, env: sandboxEnv(sb) });

  it('`volumes` prints each claim with its status, capacity, access modes and who uses it', async () => {
    const r = await nkvm(['volumes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAMESPACE\s+NAME\s+STATUS\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+USED BY$/m);
    assert.match(r.stdout, /^shop\s+data-orders-db-0\s+Bound\s+10Gi\s+RWO\s+standard\s+StatefulSet\/orders-db@node-\w$/m);
    assert.match(r.stdout, /^media\s+scratch\s+Pending\s+1Gi\s+RWO\s+fast-nvme\s+-$/m);
  });

  it('`volumes --json --namespace analytics` gives machine-readable output for one namespace', async () => {
    const r = await nkvm(['volumes', '--json', '--namespace', 'analytics']);
    assert.equal(r.code, 0, r.stderr);
    const inventory = JSON.parse(r.stdout);
    assert.deepEqual(inventory.volumes.map((v: { name: string }) => v.name), ['reports']);
    assert.equal(inventory.volumes[0].consumers[0].owner.kind, 'CronJob');
  });

  it('`backup` of two volumes in parallel succeeds, prints archives and checksums, and `history` lists them', async () => {
    const r = await nkvm(['backup', 'shop/storefront-uploads', 'media/archive-2019', '--concurrency', '2']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^ok  shop\/storefront-uploads  .* \/.*storefront-uploads-\d{8}T\d{9}Z\.tar\.gz$/m);
    assert.match(r.stdout, /sha256 [0-9a-f]{64}/);
    assert.match(r.stdout, /^2 backed up$/m);
    const archive = /(\/\S+archive-2019-\S+\.tar\.gz)/.exec(r.stdout)![1];
    assert.ok(existsSync(archive));
    const h = await nkvm(['history', '--json', '--limit', '5']);
    assert.equal(h.code, 0, h.stderr);
    const rows = JSON.parse(h.stdout);
    assert.ok(rows.some((row: { backupPath: string; status: string }) => row.backupPath === archive && row.status === 'success'));
  });

  it('`backup` exits 1 and prints the stage and next step when a volume fails', async () => {
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', namespace: 'media' });
    const r = await nkvm(['backup', 'media/archive-2019', 'analytics/reports']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAILED  media\/archive-2019  create stage failed: could not create the helper pod: .*forbidden/m);
    assert.match(r.stdout, /^    next step: .*nkvm-runtime/m);
    assert.match(r.stdout, /^1 backed up, 1 failed$/m);
  });

  it('exits 2 with usage on bad input', async () => {
    const r = await nkvm(['backup', 'not-a-volume']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /volumes are given as <namespace>\/<pvc>, got "not-a-volume"/);
    const c = await nkvm(['backup', 'a/b', '--concurrency', '0']);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /--concurrency must be a whole number from 1 to 32, got "0"/);
    const s = await nkvm(['backup', 'a/b', '--streams', 'many']);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /--streams must be auto or a whole number from 1 to 8, got "many"/);
  });
});
