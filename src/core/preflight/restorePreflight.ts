import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { StageError } from '../backup/backupStage';
import { describeIdentity, helperIdentity, type HelperIdentity } from '../backup/helperIdentity';
import { dryRunHelperPod } from '../backup/helperPod';
import { helperPodSpec } from '../backup/helperPodSpec';
import { prepareHelperPod } from '../backup/helperPreparation';
import { describePodSecurity, namespacePodSecurity } from '../backup/namespacePodSecurity';
import { describeOwners } from '../backup/volumeOwners';
import { configuredHelperUser, DEFAULT_HELPER_POD_SETTINGS, helperRunsAsRoot } from '../config/helperSettings';
import { describeKubeError } from '../kube/describeKubeError';
import { formatBytes } from '../report/quantityText';
import type { ArchiveTally } from '../restore/archiveTally';
import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { backupRestoreInput } from '../restore/backupRestoreInput';
import { checkArchive, checkTarget, readTarget } from '../restore/restoreChecks';
import { restoreHelperPod } from '../restore/restoreHelperPodSpec';
import { RestoreStageError } from '../restore/restoreStage';
import type { RestoreTargetInfo } from '../restore/restoreTarget';
import type { RestoreRequest, RestoreSettings } from '../restore/restoreVolume';
import { probeHelperImage, type ImageProbeResult } from './imageProbe';
import type { PreflightVerdict } from './preflightVolumes';

/** What a restore would meet, found before anything is written. */
export interface RestorePreflight {
  namespace: string;
  pvc: string;
  verdict: PreflightVerdict;
  reasons: string[];
  notes: string[];
  archive?: { files: number; bytes: number; archiveBytes: number };
  target?: RestoreTargetInfo;
  podSecurity: string;
  helper: { runAs?: string; image: string };
  /** The read-only look at the target (existing claims) or at the image alone (new claims). */
  probe?: ImageProbeResult;
  dryRun?: { ok: true } | { ok: false; message: string; nextStep: string };
}

/**
 * Checks a restore before it writes: the archive (checksum, entries, paths), the target claim and who
 * mounts it, the namespace's Pod Security level, who the helper would run as, who owns the target's
 * files and how much room it has (a short-lived read-only helper), and a server-side dry run of the
 * restore helper. Creates no claim and writes nothing to any volume.
 */
export async function preflightRestore(
  kubeConfig: KubeConfig,
  request: RestoreRequest,
  settings: RestoreSettings,
  /** The history row restored: an incremental backup is checked through its chain (every archive read). */
  from: { history?: HistoryStore; backup?: HistoryRecord } = {},
): Promise<RestorePreflight> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const { namespace, pvc } = request.target;
  const helper = { ...DEFAULT_HELPER_POD_SETTINGS, ...settings.helperPod };
  const blocked: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const podSecurity = await namespacePodSecurity(core, namespace);
  const report: RestorePreflight = { namespace, pvc, verdict: 'ready', reasons: [], notes, podSecurity: describePodSecurity(podSecurity), helper: { image: settings.helperImage } };

  let tally: ArchiveTally | undefined;
  try {
    const chain = from.backup?.kind === 'incremental' && from.history ? await backupRestoreInput(from.history, from.backup) : {};
    ({ tally } = await checkArchive({ ...request, ...chain }));
    report.archive = { files: tally.files, bytes: tally.bytes, archiveBytes: tally.archiveBytes };
  } catch (e) {
    blocked.push(reasonOf(e));
  }
  try {
    report.target = await readTarget(kubeConfig, namespace, pvc);
    checkTarget(request, report.target);
  } catch (e) {
    blocked.push(reasonOf(e));
  }

  const root = helperRunsAsRoot(helper, namespace, request.runAsRoot);
  let identity: HelperIdentity | undefined;
  let readOnlyHelper: V1Pod | undefined;
  try {
    if (report.target?.exists) {
      const prepared = await prepareHelperPod(core, { namespace, pvc, runId: 'preflight', image: settings.helperImage, helper, runAsRoot: request.runAsRoot, podSecurity });
      identity = prepared.identity;
      readOnlyHelper = prepared.spec;
    } else if (report.target) {
      if (root && podSecurity.enforce === 'restricted') throw new StageError('create', `namespace "${namespace}" enforces Pod Security "restricted", which refuses a root helper`, 'Restore as a non-root user (turn off "run as root").');
      identity = helperIdentity({}, root, configuredHelperUser(helper, namespace, pvc));
      readOnlyHelper = helperPodSpec({ namespace, pvc, runId: 'preflight', image: settings.helperImage, deadlineSeconds: helper.deadlineSeconds, identity, imagePullSecrets: [...helper.imagePullSecrets] });
    }
  } catch (e) {
    blocked.push(reasonOf(e));
  }
  if (identity) report.helper.runAs = describeIdentity(identity, report.target?.usedBy[0]?.pod);

  if (readOnlyHelper && !blocked.length) {
    const dryRun = await dryRunHelperPod(core, restoreHelperPod(readOnlyHelper, pvc, { newClaim: !report.target?.exists }));
    report.dryRun = dryRun.ok ? { ok: true } : { ok: false, message: dryRun.error.causeText, nextStep: dryRun.error.nextStep };
    if (!dryRun.ok) blocked.push(`${dryRun.error.causeText}. ${dryRun.error.nextStep}`);
  }
  if (readOnlyHelper && !blocked.length) {
    report.probe = await probeHelperImage(kubeConfig, {
      namespace,
      image: settings.helperImage,
      imagePullSecrets: [...helper.imagePullSecrets],
      deadlineSeconds: helper.deadlineSeconds,
      leaseSeconds: helper.leaseSeconds,
      owner: settings.helperOwner,
      startTimeoutSeconds: settings.helperPodTimeoutSeconds,
      ...(report.target?.exists ? { helper: readOnlyHelper } : {}),
    });
    if (!report.probe.ok) blocked.push(`${report.probe.cause}. ${report.probe.nextStep}`);
  }

  const volume = report.probe?.ok ? report.probe.volume : undefined;
  if (volume && identity) {
    const others = volume.owners.owners.filter((o) => o.uid !== identity!.runAsUser);
    if (others.length && identity.runAsUser !== 0) {
      const owners = describeOwners(volume.owners);
      const fix = `Restore as their owner (nkvm.helper.runAsUser, e.g. {"${namespace}/${pvc}": "${others[0]!.uid}:${others[0]!.gid}"}) or as root${podSecurity.enforce === 'restricted' ? ' (refused here: the namespace enforces Pod Security "restricted")' : ' (allowed by this namespace\'s Pod Security level)'}.`;
      blocked.push(`The target's files belong to ${owners}; the helper, running as ${report.helper.runAs}, could not replace them. ${fix}`);
    } else if (volume.owners.owners.length) {
      notes.push(`The target's files belong to ${describeOwners(volume.owners)}.`);
    }
    if (tally && volume.freeBytes !== undefined) {
      const room = volume.freeBytes + (request.emptyFirst ? (volume.usedBytes ?? 0) : 0);
      const text = `${formatBytes(tally.bytes)} of files to write, ${formatBytes(room)} free${request.emptyFirst ? ' once emptied' : ''}`;
      if (tally.bytes > room) blocked.push(`The target is too small: ${text}. Restore into a new claim (sized from the archive), or expand this one.`);
      else notes.push(`Room: ${text}.`);
    }
  }
  if (report.target && !report.target.exists) {
    notes.push(`A new claim would be created. A non-root helper asks for its group as fsGroup, so storage that applies fsGroup makes the new volume's root folder writable; NFS-like storage usually hands out a folder anyone may write.`);
  }

  report.verdict = blocked.length ? 'blocked' : warnings.length ? 'warning' : 'ready';
  report.reasons = [...blocked, ...warnings];
  return report;
}

function reasonOf(e: unknown): string {
  if (e instanceof RestoreStageError || e instanceof StageError) return `${e.causeText}. ${e.nextStep}`;
  return describeKubeError(e).message;
}
