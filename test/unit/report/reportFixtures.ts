// A run and a history built with the real modules: runReport's reducers, StageError's wording and
// the sql.js history store, so the report is tested against what the backup engine produces.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { StageError, nextStepFor } from '../../../src/core/backup/backupStage';
import type { BackupResult, BackupTarget } from '../../../src/core/backup/backupVolume';
import { applyProgress, applyResult, newRunReport, type RunReport } from '../../../src/core/backup/runReport';
import type { HistoryRecord, NewHistoryRecord } from '../../../src/core/history/historyRecord';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { hookRunsToHistory, type HookRun } from '../../../src/core/hooks/hookRun';
import { applyReadFacts } from '../../../src/core/report/runReadFacts';

export const HOSTILE_PVC = '<img src=x onerror=alert(1)>';
export const GKE_CONTEXT = 'gke_shop-prod_europe-west1_main';
export const CHECKSUM = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

export const healthy: BackupTarget = { context: 'kind-dev', namespace: 'shop', pvc: 'postgres-data' };
export const unschedulable: BackupTarget = { context: GKE_CONTEXT, namespace: 'billing', pvc: 'ledger' };
export const hostile: BackupTarget = { context: 'kind-dev', namespace: 'shop', pvc: HOSTILE_PVC };
export const leftover: BackupTarget = { context: 'kind-dev', namespace: 'media', pvc: 'uploads' };
export const copying: BackupTarget = { context: 'kind-dev', namespace: 'media', pvc: 'thumbnails' };

const startedAt = new Date('2026-11-28T20:41:55.000Z');

function failed(target: BackupTarget, error: StageError, helperPod?: string): BackupResult {
  return {
    ...target,
    runId: 'run-42',
    status: 'failed',
    stage: error.stage,
    message: error.message,
    nextStep: error.nextStep,
    evidence: error.evidence,
    warnings: [],
    helperPod,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 4200),
    durationMs: 4200,
  };
}

/** Events as helperPod.ts quotes them: `<type> <reason>: <message>`, joined by ` | ` in the cause. */
const schedulingEvents = [
  'Warning FailedScheduling: 0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available',
  'Warning FailedScheduling: 0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}',
];

/** A finished run: one success, failures at wait (pipe in the cause), create (hostile name) and cleanup. */
export function finishedRun(): RunReport {
  const report = newRunReport([healthy, unschedulable, hostile, leftover], 2, startedAt);
  applyProgress(report, { ...healthy, stage: 'copy', bytes: 1_048_576, bytesPerSecond: 524_288 });
  applyResult(report, {
    ...healthy,
    runId: 'run-42',
    status: 'success',
    stage: 'cleanup',
    message: 'Backed up 5242880 bytes',
    evidence: [],
    warnings: [],
    archivePath: '/work/backups/kind-dev/shop/postgres-data-20261128T204155Z.tar.gz',
    sizeBytes: 5_242_880,
    checksum: CHECKSUM,
    helperPod: 'nkvm-backup-postgres-data-7c1f',
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 9877),
    durationMs: 9877,
  });
  applyResult(
    report,
    failed(
      unschedulable,
      new StageError(
        'wait',
        `the helper pod could not be scheduled. Events: ${schedulingEvents.join(' | ')}`,
        nextStepFor('wait', { namespace: 'billing', helperPod: 'nkvm-backup-ledger-01ab' }),
        schedulingEvents,
      ),
      'nkvm-backup-ledger-01ab',
    ),
  );
  applyResult(
    report,
    failed(hostile, new StageError('create', 'could not create the helper pod: pods is forbidden: User "system:serviceaccount:nkvm:nkvm" cannot create resource "pods" in API group "" in the namespace "shop"', nextStepFor('create', { namespace: 'shop' }))),
  );
  applyResult(
    report,
    failed(
      leftover,
      new StageError('cleanup', 'could not delete the helper pod nkvm-backup-uploads-5d2e: the API server timed out', nextStepFor('cleanup', { namespace: 'media', helperPod: 'nkvm-backup-uploads-5d2e' })),
      'nkvm-backup-uploads-5d2e',
    ),
  );
  return report;
}

/** A run still going: one volume copying, one queued. */
export function runningRun(): RunReport {
  const report = newRunReport([copying, healthy], 1, startedAt);
  applyProgress(report, { ...copying, stage: 'copy', bytes: 3 * 1_048_576, bytesPerSecond: 1_572_864 });
  return report;
}

/** Opens a history in a fresh temporary folder, appends the rows, and reads them back newest first. */
export async function historyRows(rows: readonly NewHistoryRecord[]): Promise<HistoryRecord[]> {
  const root = await mkdtemp(path.join(tmpdir(), 'nkvm-report-'));
  const store = await HistoryStore.open(path.join(root, 'backups.db'));
  try {
    for (const row of rows) await store.append(row);
    return await store.latest({ limit: rows.length || 1 });
  } finally {
    await store.close();
    await rm(root, { recursive: true, force: true });
  }
}

export const historyFixture: NewHistoryRecord[] = [
  {
    runId: 'run-41',
    context: 'kind-dev',
    namespace: 'shop',
    pvcName: 'postgres-data',
    status: 'success',
    stage: 'cleanup',
    createdAt: '2026-11-27T08:00:00.000Z',
    durationMs: 8100,
    sizeBytes: 4_718_592,
    checksum: CHECKSUM,
    backupPath: '/work/backups/kind-dev/shop/postgres-data-20261127T080000Z.tar.gz',
  },
  {
    runId: 'run-42',
    context: 'kind-dev',
    namespace: 'shop',
    pvcName: HOSTILE_PVC,
    status: 'failed',
    stage: 'wait',
    message: 'wait stage failed: the helper pod could not be scheduled. Events: Warning FailedScheduling: 0/3 nodes | Warning BackOff: pulling\nimage',
    nextStep: nextStepFor('wait', { namespace: 'shop' }),
    createdAt: '2026-11-28T20:41:55.000Z',
    durationMs: 4200,
  },
];

export const snapshotted: BackupTarget = { context: 'kind-dev', namespace: 'shop', pvc: 'data-orders-db-0' };
export const fellBack: BackupTarget = { context: 'kind-dev', namespace: 'analytics', pvc: 'reports' };
export const hookFailed: BackupTarget = { context: 'kind-dev', namespace: 'shop', pvc: 'data-ledger-db-0' };
export const SNAPSHOT_NAME = 'nkvm-data-orders-db-0-7f3k2';
export const SNAPSHOT_AT = '2026-11-28T20:42:01.000Z';
export const LIVE_NOTE = 'its volume "pvc-6d1e" is not a CSI volume, and only CSI drivers take snapshots';
export const HOSTILE_STDERR = 'ERROR:  could not lock table "orders" <script>alert(1)</script>\n';

/** Hook runs as runHooks records them: where, what, how it ended and the end of its output. */
export function hookRun(fields: Partial<HookRun> = {}): HookRun {
  return {
    phase: 'pre',
    namespace: 'shop',
    pod: 'orders-db-0',
    container: 'postgres',
    command: ['/bin/sh', '-c', 'psql -U postgres -c CHECKPOINT'],
    source: 'annotation',
    onError: 'Fail',
    exitCode: 0,
    stdout: 'CHECKPOINT\n',
    stdoutCutBytes: 0,
    stderr: '',
    stderrCutBytes: 0,
    startedAt: '2026-11-28T20:41:56.000Z',
    durationMs: 412,
    outcome: 'ok',
    message: 'exit 0',
    ...fields,
  };
}

const orderedHooks = [hookRun(), hookRun({ phase: 'post', command: ['/bin/true'], stdout: '', startedAt: '2026-11-28T20:42:01.500Z', durationMs: 90 })];
const failedPre = hookRun({
  pod: 'ledger-db-0',
  exitCode: 3,
  outcome: 'failed',
  message: 'exit 3',
  stdout: 'LOCK TABLE\n',
  stderr: HOSTILE_STDERR,
  stderrCutBytes: 1200,
});

function withRead(target: BackupTarget, fields: Partial<BackupResult>): BackupResult {
  return {
    ...target,
    runId: 'run-43',
    status: 'success',
    stage: 'cleanup',
    message: 'Backed up 1048576 bytes',
    evidence: [],
    warnings: [],
    sizeBytes: 1_048_576,
    checksum: CHECKSUM,
    archivePath: `/work/backups/kind-dev/${target.namespace}/${target.pvc}-20261128T204155Z.tar.gz`,
    startedAt,
    finishedAt: new Date(startedAt.getTime() + 7000),
    durationMs: 7000,
    ...fields,
  };
}

/** A run of point-in-time and live backups with hooks: one from a snapshot, one auto fell back to live, one stopped by its pre hook. */
export function readRun(): RunReport {
  const report = newRunReport([snapshotted, fellBack, hookFailed], 2, startedAt);
  const hookError = new StageError('hook', 'the pre hook in shop/ledger-db-0 failed: exit 3', nextStepFor('hook', { namespace: 'shop' }));
  const results = [
    withRead(snapshotted, { consistency: 'snapshot', snapshotName: SNAPSHOT_NAME, snapshotAt: SNAPSHOT_AT, hooks: orderedHooks }),
    withRead(fellBack, { consistency: 'live', consistencyNote: LIVE_NOTE }),
    withRead(hookFailed, {
      status: 'failed',
      stage: 'hook',
      message: hookError.message,
      nextStep: hookError.nextStep,
      sizeBytes: undefined,
      checksum: undefined,
      archivePath: undefined,
      hooks: [failedPre, hookRun({ phase: 'post', pod: 'ledger-db-0', command: ['/bin/true'], stdout: '' })],
    }),
  ];
  for (const r of results) {
    applyResult(report, r);
    applyReadFacts(report, r);
  }
  return report;
}

/** History rows of such backups, as the backup run records them. */
export const readHistoryFixture: NewHistoryRecord[] = [
  {
    runId: 'run-43',
    context: 'kind-dev',
    namespace: 'shop',
    pvcName: 'data-orders-db-0',
    status: 'success',
    stage: 'cleanup',
    createdAt: '2026-11-28T20:41:55.000Z',
    sizeBytes: 1_048_576,
    backupPath: '/work/backups/kind-dev/shop/data-orders-db-0-20261128T204155Z.tar.gz',
    consistency: 'snapshot',
    snapshotName: SNAPSHOT_NAME,
    snapshotAt: SNAPSHOT_AT,
    hooks: hookRunsToHistory(orderedHooks),
  },
  { runId: 'run-43', context: 'kind-dev', namespace: 'analytics', pvcName: 'reports', status: 'success', stage: 'cleanup', createdAt: '2026-11-28T20:41:56.000Z', consistency: 'live' },
  {
    runId: 'run-43',
    context: 'kind-dev',
    namespace: 'shop',
    pvcName: 'data-ledger-db-0',
    status: 'failed',
    stage: 'hook',
    createdAt: '2026-11-28T20:41:57.000Z',
    hooks: hookRunsToHistory([failedPre]),
  },
];
