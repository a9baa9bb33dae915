import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { CLAIMS_PAGE_SIZE, type VolumeTreeNode } from '../../src/tree/volumeTreeNodes';
import { seedDemo } from '../sandbox/demoData';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { ConnectedSandbox, connectSandbox } from './sandboxForTests';

describe('Volumes view against the sandbox cluster', function () {
  this.timeout(60_000);
  let sb: ConnectedSandbox;
  before(async () => (sb = await connectSandbox()));
  after(async () => sb?.stop());

  const label = (node: VolumeTreeNode): string => String(sb.api.tree.getTreeItem(node).label);
  const childrenOf = async (node?: VolumeTreeNode) => sb.api.tree.getChildren(node);

  it('lists the sandbox context as a cluster, its namespaces and their claims with capacity, class, modes and phase', async () => {
    const clusters = await childrenOf();
    const sandbox = clusters.find((c) => label(c) === 'sandbox');
    assert.ok(sandbox, `clusters: ${clusters.map(label)}`);
    assert.equal(sb.api.tree.getTreeItem(sandbox).description, 'current context');
    const namespaces = await childrenOf(sandbox);
    assert.ok(['analytics', 'media', 'shop'].every((n) => namespaces.map(label).includes(n)), namespaces.map(label).join(','));
    const shop = namespaces.find((n) => label(n) === 'shop')!;
    const claims = await childrenOf(shop);
    const orders = claims.find((c) => label(c) === 'data-orders-db-0')!;
    const item = sb.api.tree.getTreeItem(orders);
    assert.equal(item.description, '10Gi · standard · RWO · Bound');
    assert.equal(item.contextValue, 'nkvm.pvc.bound.rwo');
    // appendText escapes Markdown; read it back as the text a user sees.
    const tooltip = (item.tooltip as vscode.MarkdownString).value.replace(/&nbsp;/g, ' ').replace(/\\(.)/g, '$1');
    assert.match(tooltip, /orders-db-0 on node-c \(StatefulSet orders-db\)/);
  });

  it('shows an unreachable cluster as a "Connection failed" child, not a pop-up', async () => {
    const port = sb.cluster.port;
    await sb.cluster.stop();
    try {
      const sandbox = (await childrenOf()).find((c) => label(c) === 'sandbox')!;
      const children = await childrenOf(sandbox);
      assert.equal(children.length, 1);
      assert.match(label(children[0]), /^Connection failed: .*127\.0\.0\.1:\d+/);
    } finally {
      sb.cluster = await SandboxCluster.start({ port, dataDir: `${sb.dir}/cluster2` });
      seedDemo(sb.cluster);
      sb.cluster.writeKubeconfig(`${sb.dir}/kubeconfig`);
      await vscode.commands.executeCommand('nkvm.refresh');
    }
  });

  it('backs up a volume through the command: an archive on disk, a history row, a backup node under the PVC', async () => {
    const report = (await vscode.commands.executeCommand('nkvm.backupVolumes', [{ context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }])) as { rows: { state: string; archivePath?: string; message?: string }[] };
    assert.equal(report.rows[0].state, 'success', report.rows[0].message);
    const history = await sb.api.history.open();
    const [row] = await history.forPvc('sandbox', 'media', 'archive-2019', 1);
    assert.equal(row.status, 'success');
    assert.equal(row.backupPath, report.rows[0].archivePath);
    const sandbox = (await childrenOf()).find((c) => label(c) === 'sandbox')!;
    const media = (await childrenOf(sandbox)).find((n) => label(n) === 'media')!;
    const pvc = (await childrenOf(media)).find((n) => label(n) === 'archive-2019')!;
    const backups = await childrenOf(pvc);
    assert.equal(backups[0].kind, 'backup');
    assert.equal(sb.api.tree.getTreeItem(backups[0]).contextValue, 'nkvm.backup.success.archive.checksum');
  });

  it('pages a namespace with more claims than one page: "Load more claims…" appends the next page', async () => {
    const namespace = 'bulk';
    sb.cluster.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    const claims = Array.from({ length: 2 * CLAIMS_PAGE_SIZE + 20 }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `claim-${String(i).padStart(4, '0')}`, namespace },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual' },
    }));
    sb.cluster.seed(...claims);
    await vscode.commands.executeCommand('nkvm.refresh');
    const sandbox = (await childrenOf()).find((c) => label(c) === 'sandbox')!;
    const bulk = (await childrenOf(sandbox)).find((n) => label(n) === namespace)!;
    const pvcs = async () => (await childrenOf(bulk)).filter((n) => n.kind === 'pvc');
    const more = async () => (await childrenOf(bulk)).find((n) => n.kind === 'more');
    assert.equal((await pvcs()).length, CLAIMS_PAGE_SIZE);
    assert.equal(label((await more())!), 'Load more claims…');
    await vscode.commands.executeCommand('nkvm.loadMoreVolumes', await more());
    assert.equal((await pvcs()).length, 2 * CLAIMS_PAGE_SIZE);
    await vscode.commands.executeCommand('nkvm.loadMoreVolumes', await more());
    const all = await pvcs();
    assert.equal(all.length, claims.length);
    assert.deepEqual(all.map(label), claims.map((c) => c.metadata.name));
    assert.equal(await more(), undefined);
  });
});
