import * as assert from 'node:assert/strict';
import { preflightMarkdown } from '../../../src/core/preflight/preflightMarkdown';
import type { VolumePreflight } from '../../../src/core/preflight/preflightVolumes';

const base: VolumePreflight = {
  namespace: 'shop',
  pvc: 'data-orders-db-0',
  verdict: 'ready',
  reasons: [],
  notes: [],
  claim: { phase: 'Bound', accessModes: ['ReadWriteOnce'], storageClassName: 'standard' },
  consumers: [{ pod: 'orders-db-0', node: 'node-c' }],
  podSecurity: 'restricted',
  helper: { runAs: 'uid 999, gid 999 (from orders-db-0)', image: 'alpine:3.20', imagePullSecrets: ['registry-cred'], node: 'node-c', tolerations: [] },
  permissions: [{ verb: 'create', group: '', resource: 'pods', namespace: 'shop', stage: 'create', why: 'start the helper', allowed: false, reason: '', command: 'kubectl auth can-i create pods --namespace shop' }],
  dryRun: { ok: true },
};

describe('Preflight report', () => {
  it('puts each volume in the summary with its verdict, and lists every permission with the kubectl command to check it', () => {
    const md = preflightMarkdown('sandbox', [base, { ...base, pvc: 'media', verdict: 'blocked', reasons: ['root refused in restricted namespace'] }], new Date('2026-11-28T00:00:00Z'));
    assert.match(md, /\| `shop\/data-orders-db-0` \| Ready \| - \| - \| restricted \|/);
    assert.match(md, /\| `shop\/media` \| Blocked \|/);
    assert.match(md, /\*\*Blocked:\*\* root refused in restricted namespace/);
    assert.match(md, /\| `create pods` \| \*\*no\*\* \| `kubectl auth can-i create pods --namespace shop` \|/);
    assert.match(md, /pinned to node `node-c`, pull secrets `registry-cred`/);
  });

  it('shows a hostile claim name as text, not as Markdown or HTML', () => {
    const md = preflightMarkdown('sandbox', [{ ...base, pvc: 'x', reasons: ['<img src=x onerror=alert(1)> [link](http://evil)'], verdict: 'warning' }], new Date());
    assert.doesNotMatch(md, /(?<!\\)<img/);
    assert.doesNotMatch(md, /\[link\]\(http/);
    assert.match(md, /\\<img src=x onerror=alert\(1\)\\>/);
  });

  it('says why a backup would be read live or refused, and keeps a hook from the cluster from becoming Markdown', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    const hook = { phase: 'pre' as const, source: 'annotation' as const, namespace: 'shop', pod: 'db-0', container: 'pg', command: ['/bin/sh', '-c', `echo ${hostile} | tee x`], onError: 'Fail' as const, origin: 'pre.hook.backup.velero.io', warnings: [] };
    const live: VolumePreflight = { ...base, consistency: { mode: 'auto', kind: 'live', reason: `its volume "${hostile}" is not a CSI volume` }, hooks: { namespace: 'shop', pvc: 'data-orders-db-0', pre: [hook], post: [], notes: [] } };
    const refused: VolumePreflight = { ...base, pvc: 'media', verdict: 'blocked', consistency: { mode: 'snapshot', kind: 'refused', reason: 'no VolumeSnapshotClass exists for its CSI driver nfs.csi.k8s.io', nextStep: 'Ask an administrator.' } };
    const md = preflightMarkdown('sandbox', [live, refused], new Date());
    assert.match(md, /- Consistency \(auto\): live, the volume is read while in use: its volume "\\<img src=x onerror=alert\(1\)\\>" is not a CSI volume/);
    assert.match(md, /- Consistency \(snapshot\): the backup would fail at stage snapshot: no VolumeSnapshotClass exists .*Next step: Ask an administrator\./);
    assert.match(md, /\| `shop\/media` \| Blocked \| \*\*no snapshot possible\*\* \|/);
    assert.match(md, /\| pre \| `db-0` \| `pg` \| `\["\/bin\/sh","-c","echo <img src=x onerror=alert\(1\)> \\\| tee x"\]` \| Fail \| no limit \|/);
    assert.match(md, /\| `shop\/data-orders-db-0` \| Ready \| live \| 1 pre, 0 post \|/);
  });
});
