import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { seedDemo } from './demoData';
import { loadCluster, saveCluster } from './persistence';
import { SandboxCluster } from './sandboxCluster';

const usage =
  'usage: npm run sandbox -- --kubeconfig <file> [--port <n>] [--data <dir>] [--empty] [--exec-bandwidth <bytes/s>] ' +
  '[--exec-bandwidth-total <bytes/s>]';
const bandwidthHelp =
  '--exec-bandwidth holds each exec stream to that many bytes per second each way (output and stdin), as a slow link does.\n' +
  '--exec-bandwidth-total holds all exec streams together to that many bytes per second each way.\n';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      port: { type: 'string' },
      data: { type: 'string' },
      empty: { type: 'boolean', default: false },
      'exec-bandwidth': { type: 'string' },
      'exec-bandwidth-total': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.kubeconfig) {
    process.stdout.write(`${usage}\n\nServes a Kubernetes API on 127.0.0.1 over HTTPS and writes a kubeconfig with a context named "sandbox".\n--data keeps volumes and objects in <dir> across restarts; without it the demo cluster lives in a temporary folder.\n--empty starts without demo objects.\n${bandwidthHelp}`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const port = values.port ? Number(values.port) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a whole number from 0 to 65535, got "${values.port}"`);
  const execBandwidth = {
    perStreamBytesPerSecond: bytesPerSecond('--exec-bandwidth', values['exec-bandwidth']),
    totalBytesPerSecond: bytesPerSecond('--exec-bandwidth-total', values['exec-bandwidth-total']),
  };
  const dataDir = values.data ? resolve(values.data) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  const cluster = await SandboxCluster.start({ port, dataDir, execBandwidth });
  const loaded = dataDir ? loadCluster(cluster) : false;
  if (!loaded && !values.empty) seedDemo(cluster);
  const kubeconfig = resolve(values.kubeconfig);
  cluster.writeKubeconfig(kubeconfig);
  process.stdout.write(`Sandbox cluster ready at ${cluster.url} (context "sandbox", kubeconfig ${kubeconfig})\n`);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`Received ${signal}, stopping the sandbox cluster\n`);
    if (dataDir) saveCluster(cluster);
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function bytesPerSecond(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(rate) || rate <= 0) {
    throw new Error(`${option} must be a whole number of bytes per second above 0 (e.g. 1000000), got "${value}"`);
  }
  return rate;
}

main().catch((e: Error) => {
  process.stderr.write(`sandbox: ${e.message}\n`);
  process.exit(1);
});
