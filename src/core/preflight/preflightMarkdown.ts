import { permissionLabel } from '../access/checkPermissions';
import type { VolumePreflight } from './preflightVolumes';
import type { RestorePreflight } from './restorePreflight';
import { formatBytes } from '../report/quantityText';
import type { PreflightConsistency } from './backupReadPreflight';
import type { BackupHooks, PlannedHook } from '../hooks/backupHooks';
import { formatGoDuration } from '../hooks/goDuration';

const verdictText = { ready: 'Ready', warning: 'Ready, with warnings', blocked: 'Blocked' } as const;

/** Cluster strings never become Markdown: they are shown as code or escaped. */
function text(value: string): string {
  return value.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

function code(value: string): string {
  const fence = value.includes('`') ? '``' : '`';
  return `${fence}${value.replace(/\n/g, ' ')}${fence}`;
}

/** Code inside a table cell: GitHub-flavoured Markdown splits cells on `|` even within code spans unless escaped. */
function cellCode(value: string): string {
  return code(value).replace(/\|/g, '\\|');
}

/** The preflight report as a Markdown document: a summary table, then each volume's findings. */
export function preflightMarkdown(context: string, results: readonly VolumePreflight[], at: Date): string {
  const lines = [
    `# Backup preflight: ${text(context)}`,
    '',
    `Checked ${at.toISOString()}; no helper mounted a volume (the helper pod was dry-run; the image was started once per namespace, with no volume, and deleted); ` +
      'no snapshot was taken and no hook was run.',
    '',
  ];
  lines.push('| Volume | Verdict | Reads | Hooks | Pod Security | Helper runs as |', '|---|---|---|---|---|---|');
  for (const r of results) {
    const hooks = r.hooks ? `${r.hooks.pre.length} pre, ${r.hooks.post.length} post` : '-';
    lines.push(`| ${code(`${r.namespace}/${r.pvc}`)} | ${verdictText[r.verdict]} | ${readsText(r.consistency)} | ${hooks} | ${text(r.podSecurity)} | ${text(r.helper.runAs ?? '-')} |`);
  }
  for (const r of results) {
    lines.push('', `## ${text(`${r.namespace}/${r.pvc}`)}: ${verdictText[r.verdict]}`, '');
    for (const reason of r.reasons) lines.push(`- **${r.verdict === 'blocked' ? 'Blocked' : 'Warning'}:** ${text(reason)}`);
    for (const note of r.notes) lines.push(`- ${text(note)}`);
    if (r.reasons.length || r.notes.length) lines.push('');
    lines.push(
      `- Claim: ${text(r.claim.phase ?? 'unknown phase')}, ${text(r.claim.accessModes.join(', ') || 'no access modes')}, storage class ${text(r.claim.storageClassName ?? '-')}`,
      `- Used by: ${r.consumers.length ? r.consumers.map((c) => `${code(c.pod)} on ${code(c.node)}`).join(', ') : 'no running pod'}`,
      `- Pod Security: ${text(r.podSecurity)}`,
      `- Helper: image ${code(r.helper.image)}, runs as ${text(r.helper.runAs ?? '-')}${r.helper.node ? `, pinned to node ${code(r.helper.node)}` : ''}` +
        `${r.helper.imagePullSecrets.length ? `, pull secrets ${r.helper.imagePullSecrets.map(code).join(', ')}` : ''}${r.helper.tolerations.length ? `, ${r.helper.tolerations.length} toleration(s)` : ''}`,
    );
    if (r.dryRun) lines.push(`- Dry run of the helper pod: ${r.dryRun.ok ? 'accepted' : `refused: ${text(r.dryRun.message)} Next step: ${text(r.dryRun.nextStep)}`}`);
    if (r.image) lines.push(`- Helper image check: ${r.image.ok ? `starts, has every tool (${text(r.image.userland)})` : `failed: ${text(r.image.cause)}`}`);
    if (r.consistency) lines.push(consistencyLine(r.consistency));
    if (r.hooks) lines.push(...hookLines(r.hooks));
    if (r.permissions.length) {
      lines.push('', '| Permission | Allowed | Check it yourself |', '|---|---|---|');
      for (const p of r.permissions) lines.push(`| ${code(permissionLabel(p))} | ${p.allowed ? 'yes' : '**no**'} | ${code(p.command)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function readsText(c: PreflightConsistency | undefined): string {
  if (!c) return '-';
  if (c.kind === 'snapshot') return `snapshot (${text(c.snapshotClass)})`;
  return c.kind === 'live' ? 'live' : '**no snapshot possible**';
}

/** The mode asked for, what the backup would do and why. */
function consistencyLine(c: PreflightConsistency): string {
  const asked = `- Consistency (${c.mode}): `;
  switch (c.kind) {
    case 'snapshot':
      return (
        `${asked}snapshot through VolumeSnapshotClass ${code(c.snapshotClass)} (driver ${code(c.driver)}, deletionPolicy ${c.deletionPolicy}${c.deletionPolicy === 'Retain' ? ' **leaves snapshots behind**' : ''}), ` +
        `read through a temporary claim of storage class ${code(c.temporaryClaimClass ?? '(default)')}; ${text(c.reason)}`
      );
    case 'live':
      return `${asked}live, the volume is read while in use: ${text(c.reason)}`;
    case 'refused':
      return `${asked}the backup would fail at stage snapshot: ${text(c.reason)}. Next step: ${text(c.nextStep)}`;
  }
}

function hookLines(hooks: BackupHooks): string[] {
  const all = [...hooks.pre, ...hooks.post];
  if (!all.length) return ['- Hooks: none (no pod that mounts the claim has Velero hook annotations, and nkvm.backup.hooks names none)'];
  const lines = ['', '| Hook | Pod | Container | Command | On error | Timeout | From | Problem |', '|---|---|---|---|---|---|---|---|'];
  for (const h of all) lines.push(hookRow(h));
  lines.push('');
  return lines;
}

function hookRow(h: PlannedHook): string {
  const timeout = h.timeoutMs === undefined ? 'no limit' : formatGoDuration(h.timeoutMs);
  const problem = h.problem ? `**cannot run:** ${text(h.problem)}` : '-';
  const command = h.command.length ? cellCode(JSON.stringify(h.command)) : '-';
  return `| ${h.phase} | ${cellCode(h.pod || '-')} | ${cellCode(h.container ?? '(first container)')} | ${command} | ${h.onError} | ${timeout} | ${cellCode(h.origin)} | ${problem} |`;
}

/** The restore preflight as a Markdown document: the verdict, what would stop it, and what was found. */
export function restorePreflightMarkdown(context: string, archiveName: string, r: RestorePreflight, at: Date): string {
  const lines = [
    `# Restore preflight: ${text(archiveName)} into ${text(`${r.namespace}/${r.pvc}`)} (${text(context)})`,
    '',
    `Checked ${at.toISOString()}; nothing was written (the target was looked at by a read-only helper, which is gone).`,
    '',
    `## ${verdictText[r.verdict]}`,
    '',
  ];
  for (const reason of r.reasons) lines.push(`- **${r.verdict === 'blocked' ? 'Blocked' : 'Warning'}:** ${text(reason)}`);
  for (const note of r.notes) lines.push(`- ${text(note)}`);
  lines.push('');
  if (r.archive) lines.push(`- Archive: ${r.archive.files} files, ${formatBytes(r.archive.bytes)} (${formatBytes(r.archive.archiveBytes)} compressed)`);
  const t = r.target;
  if (t) {
    lines.push(
      t.exists
        ? `- Target: ${text(t.phase ?? 'unknown phase')}, ${text(t.capacity ?? 'unknown size')}, ${text(t.accessModes.join(', ') || 'no access modes')}, ` +
            `${t.usedBy.length ? `used by ${t.usedBy.map((u) => code(u.pod)).join(', ')}` : 'used by no pod'}`
        : '- Target: a new claim',
    );
  }
  lines.push(`- Pod Security: ${text(r.podSecurity)}`, `- Helper: image ${code(r.helper.image)}, runs as ${text(r.helper.runAs ?? '-')}`);
  if (r.dryRun) lines.push(`- Dry run of the restore helper: ${r.dryRun.ok ? 'accepted' : `refused: ${text(r.dryRun.message)}`}`);
  if (r.probe) lines.push(`- Helper image check: ${r.probe.ok ? `starts, has every tool (${text(r.probe.userland)})` : `failed: ${text(r.probe.cause)}`}`);
  return `${lines.join('\n')}\n`;
}
