import { parseArgs } from 'node:util';
import { backupCommand, UsageError } from './backupCommand';
import { cleanupCommand } from './cleanupCommand';
import { consolidateCommand } from './consolidateCommand';
import { drillCommand } from './drillCommand';
import { historyCommand } from './historyCommand';
import { pruneCommand } from './pruneCommand';
import { restoreCommand } from './restoreCommand';
import { verifyCommand } from './verifyCommand';
import { volumesCommand } from './volumesCommand';
import { MAX_STREAMS, type StreamCount } from '../core/backup/streamPlan';
import { CONSISTENCY_MODES, type ConsistencyMode } from '../core/snapshot/consistencyMode';

const usage = `usage:
  nkvm volumes [--context C] [--namespace N] [--json]
  nkvm backup <namespace>/<pvc>... [--context C] [--concurrency N] [--consistency auto|snapshot|live]
              [--full|--incremental] [--streams auto|N] [--json]
  nkvm history [--limit N] [--json]
  nkvm restore <history-id|archive> --to <namespace>/<pvc> [--context C] [--new-claim [--size S] [--storage-class SC]]
               [--empty-first] [--path P]... [--allow-in-use-on-node] [--as-root] [--json]
  nkvm verify <history-id|archive> [--json]
  nkvm drill <history-id|archive> [--namespace N] [--storage-class SC] [--context C] [--json]
  nkvm consolidate <history-id> [--json]
  nkvm prune [--dry-run] [--json]
  nkvm cleanup [--dry-run] [--context C] [--namespace N] [--json]

Uses the kubeconfig as kubectl does (KUBECONFIG, else ~/.kube/config, else the in-cluster service account).
NKVM_BACKUP_DIR, NKVM_METADATA_DB_PATH, NKVM_HELPER_IMAGE, NKVM_HELPER_POD_TIMEOUT_SECONDS,
NKVM_DISCOVERY_TIMEOUT_SECONDS and NKVM_MAX_NAMESPACE_SCAN change the defaults.
prune keeps per volume the NKVM_RETENTION_KEEP_LAST newest successful archives and deletes those older
than NKVM_RETENTION_MAX_AGE_DAYS days (0: no limit), never the newest successful one.
drill restores a backup into a temporary claim (in the backup's namespace unless --namespace), compares every
file with the listing recorded at backup time, and deletes the claim again.
consolidate merges an incremental backup's chain into one new full archive beside it, without the cluster, and records
it as a new full backup of the same volume and time, which later incremental backups can build on.
cleanup removes helper pods that have ended, are past their deadline or whose lease ran out, and waits until they
are gone; helpers whose lease is renewed (a backup or restore running anywhere) are kept.
backup sends only what changed since the volume's last complete backup when it can (NKVM_BACKUP_INCREMENTAL auto,
a full backup after NKVM_BACKUP_FULL_EVERY incremental ones); --full always sends everything, --incremental builds
on the last complete backup whatever the run length (a volume without one is backed up in full).
backup --streams (NKVM_BACKUP_STREAMS, default auto) sends a large volume in parts over several exec streams at
once (auto: one for a volume under 256 MiB, up to 4 within the helper's CPU limit); a part whose stream breaks is
sent again on its own.
restore --as-root runs the helper as root for this restore (where the namespace's Pod Security allows it), so
files owned by other users are replaced and get their archived owners back.
Exit codes: 0 success, 1 a volume was not backed up or restored completely, an archive failed verification or the
command failed, 2 usage error.
`;

/** Aborted on the first SIGINT or SIGTERM when run as a program; commands cancel their work with it. */
export async function main(argv: string[], out = process.stdout, err = process.stderr, signal?: AbortSignal): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        context: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        concurrency: { type: 'string', default: '1' },
        consistency: { type: 'string' },
        full: { type: 'boolean', default: false },
        incremental: { type: 'boolean', default: false },
        streams: { type: 'string' },
        limit: { type: 'string', default: '20' },
        json: { type: 'boolean', default: false },
        to: { type: 'string' },
        'new-claim': { type: 'boolean', default: false },
        size: { type: 'string' },
        'storage-class': { type: 'string' },
        'empty-first': { type: 'boolean', default: false },
        path: { type: 'string', multiple: true, default: [] },
        'allow-in-use-on-node': { type: 'boolean', default: false },
        'as-root': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || !command) {
      out.write(usage);
      return values.help ? 0 : 2;
    }
    switch (command) {
      case 'volumes':
        return await volumesCommand({ context: values.context, namespace: values.namespace, json: values.json }, out, err);
      case 'backup':
        return await backupCommand(
          { volumes: rest, context: values.context, concurrency: wholeNumber('--concurrency', values.concurrency, 1, 32), consistency: consistencyOf(values.consistency), incremental: incrementalOf(values.full, values.incremental), ...(values.streams !== undefined ? { streams: streamsOf(values.streams) } : {}), json: values.json, signal },
          out,
          err,
        );
      case 'history':
        return await historyCommand({ limit: wholeNumber('--limit', values.limit, 1, 10000), json: values.json }, out, err);
      case 'restore':
        return await restoreCommand(
          {
            source: rest[0],
            to: values.to,
            context: values.context,
            newClaim: values['new-claim'],
            size: values.size,
            storageClass: values['storage-class'],
            emptyFirst: values['empty-first'],
            paths: values.path,
            allowInUseOnNode: values['allow-in-use-on-node'],
            asRoot: values['as-root'],
            json: values.json,
            signal,
          },
          out,
          err,
        );
      case 'verify':
        return await verifyCommand({ target: rest[0], json: values.json, signal }, out, err);
      case 'drill':
        return await drillCommand({ source: rest[0], namespace: values.namespace, storageClass: values['storage-class'], context: values.context, json: values.json, signal }, out, err);
      case 'consolidate':
        return await consolidateCommand({ target: rest[0], json: values.json, signal }, out, err);
      case 'prune':
        return await pruneCommand({ dryRun: values['dry-run'], json: values.json }, out, err);
      case 'cleanup':
        return await cleanupCommand({ dryRun: values['dry-run'], context: values.context, namespace: values.namespace, json: values.json }, out, err);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err.write(`nkvm: ${(e as Error).message}\n\n${usage}`);
      return 2;
    }
    err.write(`nkvm: ${(e as Error).message}\n`);
    return 1;
  }
}

function streamsOf(text: string): StreamCount {
  if (text === 'auto') return 'auto';
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_STREAMS) throw new UsageError(`--streams must be auto or a whole number from 1 to ${MAX_STREAMS}, got "${text}"`);
  return n;
}

function incrementalOf(full: boolean, incremental: boolean): 'full' | 'incremental' | undefined {
  if (full && incremental) throw new UsageError('--full and --incremental exclude each other');
  return full ? 'full' : incremental ? 'incremental' : undefined;
}

function consistencyOf(text: string | undefined): ConsistencyMode | undefined {
  if (text === undefined) return undefined;
  if (!(CONSISTENCY_MODES as readonly string[]).includes(text)) throw new UsageError(`--consistency is auto, snapshot or live, got "${text}"`);
  return text as ConsistencyMode;
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

/** How long a cancelled command may take to delete its helpers before the process exits anyway. */
const CLEANUP_WAIT_MS = 10_000;

/** Commands that create helpers or partial files and so cancel and clean up on a signal. */
const CANCELLABLE_COMMANDS = new Set(['backup', 'restore', 'verify', 'drill', 'consolidate']);

/** The shell's convention: 128 + the signal's number. */
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * The first SIGINT or SIGTERM cancels the running work, which deletes its helper pods and partial
 * files, then exits with 130 or 143; a second signal, or cleanup taking longer than CLEANUP_WAIT_MS,
 * exits at once.
 */
function runAsProgram(): void {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const argv = process.argv.slice(2);
  // Only these commands take the signal and clean up after themselves; the others stop at once.
  const cancellable = argv.some((arg) => CANCELLABLE_COMMANDS.has(arg));
  const onSignal = (name: NodeJS.Signals): void => {
    const code = SIGNAL_EXIT_CODES[name]!;
    if (received || !cancellable) process.exit(code);
    received = name;
    process.stderr.write(`\nnkvm: ${name}: cancelling and deleting helper pods (a second signal exits at once)...\n`);
    controller.abort(new Error(`cancelled by ${name}`));
    setTimeout(() => {
      process.stderr.write(`nkvm: cleanup did not finish within ${CLEANUP_WAIT_MS / 1000} s; leftover helper pods end at their lease or deadline\n`);
      process.exit(code);
    }, CLEANUP_WAIT_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main(argv, process.stdout, process.stderr, controller.signal).then((code) => process.exit(received ? SIGNAL_EXIT_CODES[received]! : code));
}

if (require.main === module) runAsProgram();
