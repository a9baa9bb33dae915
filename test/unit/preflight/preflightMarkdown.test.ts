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
    assert.match(md, /\| `shop\/data-orders-db-0` \| Ready \| restricted \|/);
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
});
