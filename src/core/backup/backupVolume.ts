import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DEFAULT_ARCHIVE_SETTINGS, type IncrementalPolicy } from '../config/archiveSettings';
import { ensurePrivateDir } from '../config/ensurePrivateDir';
import { ArchiveOptions, CompressionMode } from './archiveCommand';
import { streamArchive } from './archiveStream';
import { archivePath } from './archiveNaming';
import { BackupStage, nextStepFor, StageError } from './backupStage';
import type { HelperPodSettings } from '../config/helperSettings';
import { describeIdentity, helperPodAs, ownerIdentity } from './helperIdentity';
import { imageToolsNextStep, missingCommandIn } from './helperImageTools';
import { HelperLease } from './helperLease';
import type { HelperOwner } from './helperOwner';
import { deleteHelperPod } from './helperPod';
import { startHelperPod } from './helperStart';
import { prepareHelperPod } from './helperPreparation';
import { partialOutcome } from './unreadablePaths';
import { keptLines, skippedNote, tarOutcome } from './tarStderr';
import { PartialArchive } from './partialArchive';
import { decideOwner, describeOwners, type VolumeOwners } from './volumeOwners';
import { probeVolumeOwners } from './volumeOwnersProbe';
import { BackupSource, DEFAULT_SNAPSHOT_TIMEOUT_SECONDS, type ReadFacts } from './backupSource';
import type { BackupHookSettings } from '../config/backupHookSettings';
import type { HookRun } from '../hooks/hookRun';
import type { ArchiveDigests } from '../archive/archiveDigests';
import type { ConsistencyMode } from '../snapshot/consistencyMode';
import type { BaseDecision } from '../incremental/incrementalBase';
import type { IncrementalManifest } from '../incremental/incrementalManifest';
import { endOfArchiveBlocks, endOfArchiveMember, manifestBlocks, manifestMember } from '../incremental/manifestMember';
import { encodePodListing, type EncodedPodListing } from '../incremental/podListingCodec';
import { selectionCommand, selectionInput } from '../incremental/selectionCommand';
import { readChanges } from './incrementalRead';
import { TarStderr } from './tarStderr';
import type { StreamedArchive } from './archiveStream';
import { sendInParallel } from './parallelArchive';
import type { RetryPolicy } from './pieceTransfer';
import type { StreamCount } from './streamPlan';
import type { StreamsProgress } from './streamRates';
import { partsOf, skippedFromListing } from './backupParts';

export type BackupStatus = 'success' | 'partial' | 'failed' | 'cancelled';

export interface BackupTarget {
  context: string;
  namespace: string;
  pvc: string;
}

export interface BackupProgress extends BackupTarget {
  stage: BackupStage;
  bytes: number;
  bytesPerSecond: number;
  /** A backup in parts: each stream's rate, the parts done, the time left, what is sent again. */
  parallel?: StreamsProgress;
}

export interface BackupSettings {
  backupDir: string;
  helperImage: string;
  helperPodTimeoutSeconds: number;
  /** Overrides helperPod.deadlineSeconds (activeDeadlineSeconds of the helper). */
  helperDeadlineSeconds?: number;
  /** Who renews the helpers' leases (a window, a command); default: this process as a command. */
  helperOwner?: HelperOwner;
  /** Told when a helper's lease could not be renewed; the work goes on. */
  onHelperProblem?: (message: string) => void;
  imagePullSecrets?: string[];
  /** Pull secrets, resources, tolerations, node selector and root namespaces of the helper (nkvm.helper.*). */
  helperPod?: Partial<HelperPodSettings>;
  /** Where the archive is compressed (nkvm.compression); default DEFAULT_ARCHIVE_SETTINGS.compression. */
  compression?: CompressionMode;
  /** gzip level 1-9 (nkvm.compressionLevel); default 6. */
  compressionLevel?: number;
  /** Paths or globs under the volume root to back up (nkvm.backup.include); empty: everything. */
  backupInclude?: readonly string[];
  /** Paths or globs under the volume root to leave out (nkvm.backup.exclude). */
  backupExclude?: readonly string[];
  /** Point in time (snapshot), live, or snapshot where the claim's driver can (auto, the default). */
  consistency?: ConsistencyMode;
  /** Bound on the snapshot becoming ready and its temporary claim being provisioned; default 300 s. */
  snapshotTimeoutSeconds?: number;
  /** Storage class of the temporary claim made from the snapshot; default: the source claim's. */
  snapshotStorageClass?: string;
  /** Hooks per claim beside the pods' Velero annotations (nkvm.backup.hooks). */
  hooks?: BackupHookSettings;
  /** `auto` (default): send only what changed since the volume's last complete backup where possible; `never`. */
  incremental?: IncrementalPolicy;
  /** A full backup after this many incremental ones in a row (nkvm.backup.fullEvery); default 7. */
  fullEvery?: number;
  /** Exec streams per volume (nkvm.backup.streams): `auto` (default) or 1 to 8. */
  streams?: StreamCount;
  /** How often a part whose stream broke is sent again, and the first wait; default DEFAULT_RETRY. */
  retry?: RetryPolicy;
}


/** How the volume was read (ReadFacts: consistency, why auto read live, the snapshot and its instant) comes with it. */
export interface BackupResult extends BackupTarget, ReadFacts {
  runId: string;
  status: BackupStatus;
  /** The stage reached (success: `cleanup`) or the stage that failed. */
  stage: BackupStage;
  message: string;
  nextStep?: string;
  evidence: string[];
  /** Lines tar printed on stderr (files that changed or could not be read): the first and last ones, bounded. */
  warnings: string[];
  archivePath?: string;
  sizeBytes?: number;
  checksum?: string;
  helperPod?: string;
  /** The application hooks that ran around the backup, in order. */
  hooks?: HookRun[];
  /** Every entry of the archive with the SHA-256 of its data, listed as it arrived (what drills compare against). */
  digests?: ArchiveDigests;
  /** `incremental`: the archive holds what changed since `baseId` (its manifest says what, and what was deleted); absent: full. */
  kind?: 'full' | 'incremental';
  baseId?: number;
  /** Why a backup that could have built on an earlier one is full (first backup, settings, a broken chain...). */
  fullBecause?: string;
  /** What an incremental backup found and sent. */
  increment?: IncrementalManifest['counts'];
  /** A backup sent in parts: the exec streams used, and the bytes that arrived in attempts that broke and were sent again. */
  streams?: number;
  resentBytes?: number;
  /**
   * For the history only (runBackups records them and leaves them out of the results it hands on, as they grow
   * with the volume): the incremental archive's manifest, and the volume's listing, the base of the next backup.
   */
  manifest?: IncrementalManifest;
  listing?: EncodedPodListing;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

/**
 * Backs up one claim through a helper pod: create, wait, exec, copy, checksum, cleanup. Never throws:
 * every outcome is a result, and no helper pod or partial archive is left behind.
 */
export async function backupVolume(
  kubeConfig: KubeConfig,
  target: BackupTarget,
  settings: BackupSettings,
  runId: string,
  options: { signal?: AbortSignal; onProgress?: (p: BackupProgress) => void; runAsRoot?: boolean; base?: BaseDecision } = {},
): Promise<BackupResult> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const startedAt = new Date();
  const { namespace } = target;
  let stage: BackupStage = 'create';
  let podName: string | undefined;
  let lease: HelperLease | undefined;
  let archive: PartialArchive | undefined;
  let bytesSeen = 0;
  let parallel: StreamsProgress | undefined;
  let runAs: string | undefined;
  let owners: VolumeOwners | undefined;
  const source = new BackupSource(kubeConfig, core, target, runId, { ...settings, leaseSeconds: settings.helperPod?.leaseSeconds });
  const report = (s: BackupStage): void => {
    stage = s;
    const seconds = (Date.now() - startedAt.getTime()) / 1000;
    const rate = parallel?.bytesPerSecond ?? (seconds > 0 ? bytesSeen / seconds : 0);
    options.onProgress?.({ ...target, stage: s, bytes: bytesSeen, bytesPerSecond: rate, ...(parallel ? { parallel } : {}) });
  };
  const finish = (partial: Omit<BackupResult, keyof BackupTarget | 'runId' | 'startedAt' | 'finishedAt' | 'durationMs' | 'helperPod'>): BackupResult => {
    const finishedAt = new Date();
    return { ...target, runId, ...partial, helperPod: podName, ...source.read, ...(source.hooks?.runs.length ? { hooks: source.hooks.runs } : {}), startedAt, finishedAt, durationMs: finishedAt.getTime() - startedAt.getTime() };
  };

  let result: BackupResult;
  try {
    options.signal?.throwIfAborted();
    const archiveOptions = archiveOptionsOf(settings);
    archive = await openArchive(settings.backupDir, target, startedAt, archiveOptions.compression);
    await source.open(report, options.signal);
    report('create');
    const prepared = await prepareHelperPod(core, {
      namespace,
      pvc: source.claim,
      copyOf: source.copyOf,
      runId,
      image: settings.helperImage,
      deadlineSeconds: settings.helperDeadlineSeconds,
      owner: settings.helperOwner,
      helper: { ...settings.helperPod, imagePullSecrets: [...(settings.imagePullSecrets ?? []), ...(settings.helperPod?.imagePullSecrets ?? [])] },
      runAsRoot: options.runAsRoot,
    });
    let identity = prepared.identity;
    runAs = describeIdentity(identity, prepared.placement.consumers[0]);
    const startHelper = (spec: V1Pod): Promise<string> =>
      startHelperPod(kubeConfig, core, spec, {
        namespace,
        // With a class that binds on first consumer, the claim made from the snapshot is provisioned while the helper waits.
        timeoutSeconds: settings.helperPodTimeoutSeconds + (source.copy ? (settings.snapshotTimeoutSeconds ?? DEFAULT_SNAPSHOT_TIMEOUT_SECONDS) : 0),
        signal: options.signal,
        onProblem: settings.onHelperProblem,
        onCreated: (name, started) => ((podName = name), (lease = started)),
        onWait: () => report('wait'),
      });
    let helperName = await startHelper(prepared.spec);
    // From here on the work runs in the helper: the owners' probe and the listing, then the archive.
    report('exec');
    const readOn = (pod: string, signal: AbortSignal | undefined) =>
      readChanges(kubeConfig, {
        namespace,
        pod,
        image: settings.helperImage,
        selection: { include: archiveOptions.include, exclude: archiveOptions.exclude },
        decision: options.base,
        ...(source.read.snapshotAt ? { cutAt: source.read.snapshotAt } : {}),
        readLive: source.copy === undefined,
        signal,
      });
    let pendingReading: ReturnType<typeof readOn> | undefined;
    if (identity.source === 'default') {
      // The listing runs while the owners are probed (two short execs at once, not one after the other);
      // it is thrown away in the rare case that the helper is started again as the files' owner.
      const listingAborted = new AbortController();
      const listingSignal = options.signal ? AbortSignal.any([options.signal, listingAborted.signal]) : listingAborted.signal;
      pendingReading = readOn(helperName, listingSignal);
      pendingReading.catch(() => undefined);
      // Nobody names a user: when one other non-root user owns the files (a scaled-down database), a
      // helper running as that user reads them all. The first helper only looked, so it goes first.
      owners = await probeVolumeOwners(kubeConfig, namespace, helperName, options.signal).catch(() => undefined);
      const decision = owners && decideOwner(owners, identity.runAsUser);
      if (decision?.kind === 'owner') {
        listingAborted.abort(new Error('the helper is started again as the owner of the files'));
        pendingReading = undefined;
        await lease!.stop();
        await deleteHelperPod(core, namespace, helperName, kubeConfig);
        podName = undefined;
        identity = ownerIdentity(identity, decision);
        runAs = describeIdentity(identity);
        report('create');
        helperName = await startHelper(helperPodAs(prepared.spec, identity));
        report('exec');
      }
    }
    const reading = await (pendingReading ?? readOn(helperName, options.signal));
    const plan = reading.plan;
    const stream = (extra: { command?: string[]; stdin?: Buffer; prefixed?: boolean } = {}): Promise<StreamedArchive> =>
      streamArchive(kubeConfig, {
        namespace,
        pod: helperName,
        archive: archive!,
        options: archiveOptions,
        ...extra,
        signal: options.signal,
        onBytes: (n) => {
          if (bytesSeen === 0) stage = 'copy';
          bytesSeen = n;
        },
        tick: () => report(stage),
      });
    const inParts = partsOf(reading.listing, plan?.selection.names, settings.streams, settings.helperPod?.resources?.limits?.cpu);
    let streamed: StreamedArchive & { resentBytes?: number };
    if (inParts) {
      // Several streams at once, each part checked on its own and sent again alone when its stream breaks.
      const gzipped = archiveOptions.compression !== 'none';
      if (plan) await archive.append(gzipped ? manifestMember(plan.manifest) : manifestBlocks(plan.manifest));
      stage = 'copy';
      streamed = await sendInParallel(kubeConfig, {
        namespace,
        pod: helperName,
        archive,
        options: archiveOptions,
        pieces: inParts.pieces,
        streams: inParts.streams,
        retry: settings.retry,
        signal: options.signal,
        onProgress: (p) => {
          parallel = p;
          bytesSeen = p.bytes;
          report(stage);
        },
      });
      if (!plan) streamed = { ...streamed, stderr: { ...streamed.stderr, skipped: skippedFromListing(reading.listing!) } };
    } else if (!plan) {
      streamed = await stream();
    } else {
      // The manifest goes first, as a member of its own: tar readers go on from it into what the pod sends.
      const gzipped = archiveOptions.compression !== 'none';
      await archive.append(gzipped ? manifestMember(plan.manifest) : manifestBlocks(plan.manifest));
      const names = plan.selection.names;
      if (names.length) {
        streamed = await stream({ command: selectionCommand(archiveOptions.compression, archiveOptions.level), stdin: selectionInput(names), prefixed: true });
      } else {
        // Nothing changed (BusyBox tar refuses an empty archive): the tar ends right after the manifest.
        await archive.append(gzipped ? endOfArchiveMember() : endOfArchiveBlocks());
        streamed = { exitCode: 0, stderr: new TarStderr().end(), digests: { entries: [] } };
      }
    }
    await source.readDone();
    report('checksum');
    const local = await archive.finish();
    const trailer = streamed.stderr.trailer;
    const messages = keptLines(streamed.stderr);
    const outcome = tarOutcome(streamed.exitCode, streamed.stderr);
    const missingTool = missingCommandIn(streamed.exitCode, messages.join('\n'));
    if (missingTool) {
      throw new StageError('exec', `the helper image has no ${missingTool}: ${messages.slice(-1).join('')}`, imageToolsNextStep(settings.helperImage, missingTool), messages);
    }
    if (outcome === 'failed') {
      throw new StageError('exec', `tar in the helper pod exited with code ${streamed.exitCode}${messages.length ? `: ${messages.slice(-3).join(' | ')}` : ''}`, nextStepFor('exec', { namespace, helperPod: podName }), messages);
    }
    // Each part's checksum was checked as it arrived.
    const podSent = !inParts && (!plan || plan.selection.names.length > 0);
    if (podSent && !trailer) throw new StageError('checksum', 'the helper pod did not report the checksum of what it sent', nextStepFor('checksum', { namespace }));
    // The pod hashed what it sent; the received bytes must match before the file gets its final name.
    // The recorded checksum is the file's own, which differs from the stream's when this process compressed it
    // or wrote a manifest before it.
    const received = streamed.received ?? local;
    if (trailer && trailer.sha256 !== received.sha256) {
      throw new StageError('checksum', `the archive received (${received.bytes} bytes, sha256 ${received.sha256}) differs from what the pod sent (sha256 ${trailer.sha256})`, nextStepFor('checksum', { namespace }));
    }
    await archive.commit();
    const partial = outcome === 'partial' ? partialOutcome(streamed.stderr, runAs, owners && describeOwners(owners)) : source.partialOutcome();
    result = finish({
      status: partial ? 'partial' : 'success',
      stage: 'cleanup',
      message: partial ? partial.message : plan ? incrementalMessage(plan.manifest, local.bytes) : `Backed up ${local.bytes} bytes`,
      nextStep: partial?.nextStep,
      evidence: [],
      warnings: [...source.warnings(), ...skippedNote(streamed.stderr), ...messages],
      archivePath: archive.finalPath,
      sizeBytes: local.bytes,
      checksum: local.sha256,
      ...(streamed.digests ? { digests: streamed.digests } : {}),
      ...(plan ? { kind: 'incremental' as const, baseId: plan.manifest.base.id, increment: plan.manifest.counts, manifest: plan.manifest, listing: plan.listing } : {}),
      ...(!plan && reading.listing ? { listing: encodePodListing(reading.listing) } : {}),
      ...(reading.fullBecause ? { fullBecause: reading.fullBecause } : {}),
      ...(inParts ? { streams: inParts.streams, resentBytes: streamed.resentBytes ?? 0 } : {}),
    });
  } catch (e) {
    await archive?.discard();
    // Whatever stopped the backup, the application is let go again.
    await source.readDone();
    if (options.signal?.aborted) {
      result = finish({ status: 'cancelled', stage, message: `Cancelled during the ${stage} stage`, evidence: [], warnings: [] });
    } else {
      const failure = e instanceof StageError ? e : new StageError(stage, e instanceof Error ? e.message : String(e), nextStepFor(stage, { namespace, helperPod: podName }));
      result = finish({ status: 'failed', stage: failure.stage, message: failure.message, nextStep: failure.nextStep, evidence: failure.evidence, warnings: [] });
    }
  }

  await lease?.stop();
  if (podName) {
    try {
      await deleteHelperPod(core, namespace, podName, kubeConfig);
    } catch (e) {
      const failure = e as StageError;
      // The backup's own outcome stands; the leftover pod is reported next to it.
      result.message = `${result.message}; ${failure.message}`;
      result.nextStep = [result.nextStep, failure.nextStep].filter(Boolean).join(' ');
      if (result.status === 'success') result.stage = 'cleanup';
    }
  }
  // The temporary claim goes once its helper is gone, then the snapshot it was made from.
  const leftover = await source.close();
  if (leftover) {
    result.message = `${result.message}; ${leftover.message}`;
    result.nextStep = [result.nextStep, leftover.nextStep].filter(Boolean).join(' ');
  }
  return result;
}

function incrementalMessage(manifest: IncrementalManifest, bytes: number): string {
  const c = manifest.counts;
  const changed = c.changed + c.added + c.typeChanged;
  return `Backed up ${bytes} bytes: ${changed} changed, ${c.unchanged} unchanged, ${c.deleted} deleted since backup #${manifest.base.id}`;
}

function archiveOptionsOf(settings: BackupSettings): ArchiveOptions {
  return { compression: settings.compression ?? DEFAULT_ARCHIVE_SETTINGS.compression, level: settings.compressionLevel ?? DEFAULT_ARCHIVE_SETTINGS.compressionLevel, include: settings.backupInclude ?? [], exclude: settings.backupExclude ?? [] };
}

async function openArchive(backupDir: string, target: BackupTarget, at: Date, compression: CompressionMode): Promise<PartialArchive> {
  const finalPath = archivePath(backupDir, target.context, target.namespace, target.pvc, at, compression);
  try {
    await ensurePrivateDir(backupDir);
    await mkdir(dirname(finalPath), { recursive: true, mode: 0o700 });
    return await PartialArchive.create(finalPath);
  } catch (e) {
    throw new StageError('copy', `cannot write to the backup folder ${backupDir}: ${(e as Error).message}`, 'Choose a writable backup folder (nkvm.backupDir or NKVM_BACKUP_DIR) with free space, then run the backup again.');
  }
}
