import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { VolumeTreeNode } from '../../src/tree/volumeTreeNodes';
import { ConnectedSandbox, connectSandbox } from './sandboxForTests';

describe('Connecting: pasted kubeconfigs and permission checks', function () {
  this.timeout(60_000);
  let sb: ConnectedSandbox;
  before(async () => (sb = await connectSandbox()));
  after(async () => sb?.stop());

  const label = (node: VolumeTreeNode): string => String(sb.api.tree.getTreeItem(node).label);

  it('adds a pasted kubeconfig as a cluster kept in secret storage, and removes it', async () => {
    const text = sb.cluster.kubeconfig({ context: 'pasted-sandbox' });
    const contexts = await vscode.commands.executeCommand('nkvm.addKubeconfig', text, 'team cluster');
    assert.deepEqual(contexts, ['pasted-sandbox']);
    const pasted = (await sb.api.tree.getChildren()).find((c) => label(c) === 'pasted-sandbox');
    assert.ok(pasted, 'the pasted context is a cluster node');
    // appendText escapes Markdown; read it back as the text a user sees.
    const tooltip = (sb.api.tree.getTreeItem(pasted).tooltip as vscode.MarkdownString).value.replace(/&nbsp;/g, ' ').replace(/\\(.)/g, '$1');
    assert.match(tooltip, /From: pasted kubeconfig "team cluster"/);
    const namespaces = (await sb.api.tree.getChildren(pasted)).map(label);
    assert.ok(namespaces.includes('shop'), namespaces.join(','));
    const settingsText = JSON.stringify(vscode.workspace.getConfiguration('nkvm'));
    assert.ok(!settingsText.includes(sb.cluster.adminToken), 'the token never lands in settings');
    // A second pasted kubeconfig with the same user name but a wrong token must not borrow the first one's.
    await vscode.commands.executeCommand('nkvm.addKubeconfig', sb.cluster.kubeconfig({ context: 'pasted-other', token: 'wrong-token', user: 'pasted-sandbox-admin' }), 'other');
    const other = (await sb.api.tree.getChildren()).find((c) => label(c) === 'pasted-other')!;
    const otherChildren = (await sb.api.tree.getChildren(other)).map(label);
    assert.match(otherChildren[0], /^Connection failed: .*(credentials|401|Unauthorized)/i, otherChildren.join(' | '));
    await vscode.commands.executeCommand('nkvm.removeKubeconfig', 'other');
    await vscode.commands.executeCommand('nkvm.removeKubeconfig', 'team cluster');
    assert.equal((await sb.api.tree.getChildren()).some((c) => label(c) === 'pasted-sandbox'), false);
  });

  it('refuses a broken kubeconfig, naming what is wrong, and stores nothing', async () => {
    const broken = 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts:\n- name: x\n  context: {cluster: nowhere, user: nobody}\nusers: []\n';
    const added = await vscode.commands.executeCommand('nkvm.addKubeconfig', broken, 'broken');
    assert.equal(added, undefined);
    assert.equal((await sb.api.tree.getChildren()).some((c) => label(c) === 'x'), false);
  });

  it('checks each permission a backup needs and says how to reproduce it with kubectl', async () => {
    const sandbox = (await sb.api.tree.getChildren()).find((c) => label(c) === 'sandbox')!;
    const shop = (await sb.api.tree.getChildren(sandbox)).find((n) => label(n) === 'shop')!;
    const checks = (await vscode.commands.executeCommand('nkvm.checkPermissions', shop)) as { allowed: boolean; command: string }[];
    assert.ok(checks.length >= 6);
    assert.ok(checks.every((c) => c.allowed));
    assert.ok(checks.some((c) => c.command.includes('auth can-i create pods --subresource=exec')));
    const doc = vscode.window.activeTextEditor?.document.getText() ?? '';
    assert.match(doc, /# Backup permissions in "shop" \(sandbox\)/);
  });

  it('follows edits to the kubeconfig file without a manual refresh', async () => {
    const file = `${sb.dir}/kubeconfig`;
    const original = readFileSync(file, 'utf8');
    try {
      writeFileSync(file, sb.cluster.kubeconfig({ context: 'edited-context' }));
      const deadline = Date.now() + 15_000;
      let labels: string[] = [];
      while (Date.now() < deadline) {
        labels = (await sb.api.tree.getChildren()).map(label);
        if (labels.includes('edited-context')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(labels.includes('edited-context'), `clusters: ${labels.join(', ')}`);
    } finally {
      writeFileSync(file, original);
    }
  });
});
