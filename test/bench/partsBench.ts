// Large volumes over several streams: part of `npm run bench:streams` (NKVM_BENCH_LARGE_MB=0 leaves it out).
//   NKVM_BENCH_LARGE_MB=1000 (volume size, in files of 5 MB of random data)  NKVM_BENCH_LINK_MBPS=10 (per exec stream)
// In one sandbox, as the user runs them (the bundled CLI, spawn to exit): each exec stream held to the link's rate,
// `kubectl exec tar czf` by hand against `nkvm backup --streams 4`; the same with one stream cut at 70 % of the
// backup's time; then without a limit, `--streams 1` against `--streams 4`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { boundClaim } from '../integration/restore/restoreFixture';
import type { SandboxFixture } from '../integration/sandboxFixture';
import { Kubectl, kubectlBackup } from './kubectlReference';

const MB = 1e6;
const FILE_BYTES = 5 * MB;
const NS = 'media';
const PVC = 'large';

export interface NkvmRun {
  totalMs: number;
  bytes: number;
  streams?: number;
  resentBytes?: number;
}

/** `nkvm backup` as a user runs it: the shipped bundle under plain node, timed from spawn to exit. */
export function runNkvmBackup(bundle: string, sb: SandboxFixture, pvc: string, tag: string, extraArgs: string[] = []): Promise<NkvmRun> {
  const env = {
    ...process.env,
    KUBECONFIG: sb.kubeconfigPath,
    NKVM_BACKUP_DIR: join(sb.dir, `nkvm-backups-${tag}`),
    NKVM_METADATA_DB_PATH: join(sb.dir, 'nkvm-data', 'backups.db'),
    NKVM_BACKUP_CONSISTENCY: 'live',
  };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(process.env['NKVM_BENCH_NODE_ARGS']?.split(' ') ?? []), bundle, 'backup', `${NS}/${pvc}`, '--full', '--json', ...extraArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const totalMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`nkvm backup exited with ${code}: ${stderr.trim()} ${stdout.trim()}`));
      const result = JSON.parse(stdout) as { results?: { status: string; archivePath?: string; streams?: number; resentBytes?: number }[] };
      const r = result.results?.[0];
      if (r?.status !== 'success' || !r.archivePath) return reject(new Error(`nkvm backup did not succeed: ${stdout}`));
      resolve({ totalMs, bytes: statSync(r.archivePath).size, streams: r.streams, resentBytes: r.resentBytes });
    });
  });
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const verdict = (ok: boolean): string => (ok ? 'PASS' : '**FAIL**');

/** Runs the large-volume part in `sb`; prints its table and goals on stdout. */
export async function benchLargeVolume(sb: SandboxFixture, bundle: string): Promise<void> {
  const volumeMb = Number(process.env['NKVM_BENCH_LARGE_MB'] ?? 1000);
  if (!volumeMb) return;
  const linkMbps = Number(process.env['NKVM_BENCH_LINK_MBPS'] ?? 10);
  const root = await boundClaim(sb, NS, PVC);
  await mkdir(join(root, 'media'));
  const files = Math.ceil((volumeMb * MB) / FILE_BYTES);
  for (let i = 0; i < files; i++) await writeFile(join(root, 'media', `clip-${String(i).padStart(3, '0')}.bin`), randomBytes(FILE_BYTES));
  console.error(`volume ${NS}/${PVC}: ${files} files of random data, ${(files * FILE_BYTES) / MB} MB; each exec stream held to ${linkMbps} MB/s`);

  sb.cluster.execBandwidth.set({ perStreamBytesPerSecond: linkMbps * MB });
  const kubectl = new Kubectl(sb.kubeconfigPath, sb.dir);
  const byHand = await kubectlBackup(kubectl, NS, PVC, 'large-by-hand', ['tar', 'czf', '-', '-C', '/data', '.'], join(sb.dir, 'large-by-hand.tar.gz'));
  console.error(`kubectl exec tar czf: ${seconds(byHand.execMs)} s`);
  const four = await runNkvmBackup(bundle, sb, PVC, 'large-4', ['--streams', '4']);
  console.error(`nkvm backup --streams 4: ${seconds(four.totalMs)} s`);
  // A stream cut at 70 % of the backup's time (in the middle of whatever part it sends then), once.
  const cutAt = setTimeout(() => sb.cluster.faults.inject({ kind: 'execCut', target: { namespace: NS, pod: 'nkvm-backup-*' }, afterBytes: 0, count: 1 }), four.totalMs * 0.7);
  const cut = await runNkvmBackup(bundle, sb, PVC, 'large-cut', ['--streams', '4']).finally(() => clearTimeout(cutAt));
  sb.cluster.faults.clear();
  console.error(`nkvm backup --streams 4, one stream cut: ${seconds(cut.totalMs)} s, ${((cut.resentBytes ?? 0) / MB).toFixed(1)} MB sent again`);
  sb.cluster.execBandwidth.set({});
  const oneFree = await runNkvmBackup(bundle, sb, PVC, 'large-1-free', ['--streams', '1']);
  const fourFree = await runNkvmBackup(bundle, sb, PVC, 'large-4-free', ['--streams', '4']);
  console.error(`no limit: --streams 1 ${seconds(oneFree.totalMs)} s, --streams 4 ${seconds(fourFree.totalMs)} s`);

  const parallel = four.totalMs / byHand.execMs;
  const resent = (cut.resentBytes ?? 0) / cut.bytes;
  const free = fourFree.totalMs / oneFree.totalMs;
  console.log(`\n## Large volumes: several streams, a cut stream, no limit\n`);
  console.log(`${(files * FILE_BYTES) / MB} MB in ${files} files of random data; each exec stream held to ${linkMbps} MB/s where a limit applies.\n`);
  console.log(row(['run', 'time (s)', 'archive (MB)', 'streams', 'sent again (MB)']));
  console.log(row(['---', '---:', '---:', '---:', '---:']));
  console.log(row([`kubectl exec tar czf (exec alone), ${linkMbps} MB/s`, seconds(byHand.execMs), (statSync(join(sb.dir, 'large-by-hand.tar.gz')).size / MB).toFixed(0), 1, '-']));
  console.log(row([`nkvm backup --streams 4, ${linkMbps} MB/s`, seconds(four.totalMs), (four.bytes / MB).toFixed(0), four.streams ?? 1, '0']));
  console.log(row([`nkvm backup --streams 4, ${linkMbps} MB/s, one stream cut at 70 %`, seconds(cut.totalMs), (cut.bytes / MB).toFixed(0), cut.streams ?? 1, ((cut.resentBytes ?? 0) / MB).toFixed(1)]));
  console.log(row(['nkvm backup --streams 1, no limit', seconds(oneFree.totalMs), (oneFree.bytes / MB).toFixed(0), oneFree.streams ?? 1, '-']));
  console.log(row(['nkvm backup --streams 4, no limit', seconds(fourFree.totalMs), (fourFree.bytes / MB).toFixed(0), fourFree.streams ?? 1, '-']));
  console.log('\n| goal | figure | result |');
  console.log('| --- | ---: | --- |');
  console.log(row([`4 streams at ${linkMbps} MB/s each / kubectl exec tar czf <= 0.35`, parallel.toFixed(3), verdict(parallel <= 0.35)]));
  console.log(row(['one stream cut at 70 %: sent again / archive <= 0.15', resent.toFixed(3), verdict(resent <= 0.15 && cut.resentBytes! > 0)]));
  console.log(row(['no limit: 4 streams / 1 stream <= 1.05', free.toFixed(3), verdict(free <= 1.05)]));
}
