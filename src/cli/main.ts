import { parseArgs } from 'node:util';
import { backupCommand, UsageError } from './backupCommand';
import { historyCommand } from './historyCommand';
import { volumesCommand } from './volumesCommand';

const usage = `usage:
  nkvm volumes [--context C] [--namespace N] [--json]
  nkvm backup <namespace>/<pvc>... [--context C] [--concurrency N] [--json]
  nkvm history [--limit N] [--json]

Uses the kubeconfig as kubectl does (KUBECONFIG, else ~/.kube/config, else the in-cluster service account).
NKVM_BACKUP_DIR, NKVM_METADATA_DB_PATH, NKVM_HELPER_IMAGE, NKVM_HELPER_POD_TIMEOUT_SECONDS,
NKVM_DISCOVERY_TIMEOUT_SECONDS and NKVM_MAX_NAMESPACE_SCAN change the defaults.
Exit codes: 0 success, 1 a volume was not backed up completely or the command failed, 2 usage error.
`;

export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        context: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        concurrency: { type: 'string', default: '1' },
        limit: { type: 'string', default: '20' },
        json: { type: 'boolean', default: false },
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
        return await backupCommand({ volumes: rest, context: values.context, concurrency: wholeNumber('--concurrency', values.concurrency, 1, 32), json: values.json }, out, err);
      case 'history':
        return await historyCommand({ limit: wholeNumber('--limit', values.limit, 1, 10000), json: values.json }, out, err);
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

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
