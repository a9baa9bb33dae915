// Transfers: what a small backup costs end to end against doing it by hand with kubectl, then a large volume over
// several streams (partsBench.ts). `npm run bench:streams`
//   NKVM_BENCH_MB=100 (volume size)  NKVM_BENCH_ROUNDS=3 (rounds; medians are compared)
// Each round, in one sandbox cluster: by hand (kubectl create a reader pod, kubectl wait, kubectl exec tar czf > file,
// kubectl delete --wait), then `nkvm backup <claim> --full` as shipped (the bundled CLI, process start to exit, checksums
// verified, history written). Prints figures and PASS/FAIL; exits 0 whatever the figures, 1 when a run fails.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { boundClaim } from '../integration/restore/restoreFixture';
import { startSandbox } from '../integration/sandboxFixture';
import { writeBenchVolume } from './benchVolume';
import { Kubectl, kubectlBackup } from './kubectlReference';
import { cpuSnapshot, othersCores } from './machineLoad';
import { benchLargeVolume, runNkvmBackup, type NkvmRun } from './partsBench';

const MB = 1e6;
const VOLUME_MB = Number(process.env['NKVM_BENCH_MB'] ?? 100);
const ROUNDS = Number(process.env['NKVM_BENCH_ROUNDS'] ?? 3);
const NS = 'media';
const PVC = 'small';
const PROJECT = join(__dirname, '../..');

interface Round {
  kubectl: { totalMs: number; createMs: number; waitMs: number; execMs: number; deleteMs: number; bytes: number };
  nkvm: NkvmRun;
  othersCores: number;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(): Promise<void> {
  const sb = await startSandbox({ demo: true });
  try {
    // dist/nkvm.js as the package ships it (minified, sql.js's wasm beside it).
    execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: PROJECT, stdio: 'ignore' });
    const bundle = join(PROJECT, 'dist', 'nkvm.js');
    const root = await boundClaim(sb, NS, PVC);
    const contents = await writeBenchVolume(root, VOLUME_MB * MB);
    const kubectl = new Kubectl(sb.kubeconfigPath, sb.dir);
    console.error(`volume ${NS}/${PVC}: ${contents.files} files, ${(contents.bytes / MB).toFixed(0)} MB; ${ROUNDS} rounds`);

    const rounds: Round[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const from = cpuSnapshot();
      const out = join(sb.dir, `by-hand-${i}.tar.gz`);
      const byHand = await kubectlBackup(kubectl, NS, PVC, `by-hand-${i}`, ['tar', 'czf', '-', '-C', '/data', '.'], out);
      // What a user runs: create, wait, exec, delete (kubectlBackup's extra `exec -- true` left out).
      const kubectlMs = byHand.createMs + byHand.waitMs + byHand.execMs + byHand.deleteMs;
      const nkvm = await runNkvmBackup(bundle, sb, PVC, `small-${i}`);
      const round: Round = {
        kubectl: { totalMs: kubectlMs, createMs: byHand.createMs, waitMs: byHand.waitMs, execMs: byHand.execMs, deleteMs: byHand.deleteMs, bytes: statSync(out).size },
        nkvm,
        othersCores: othersCores(from, cpuSnapshot()),
      };
      rounds.push(round);
      console.error(`round ${i}: by hand ${seconds(kubectlMs)} s, nkvm backup ${seconds(nkvm.totalMs)} s (${(nkvm.totalMs / kubectlMs).toFixed(3)})`);
    }

    console.log(`## Small volumes: \`nkvm backup\` end to end against kubectl by hand\n`);
    console.log(`${(contents.bytes / MB).toFixed(0)} MB in ${contents.files} files (half random, half text), ${ROUNDS} rounds, load average ${loadavg()[0]!.toFixed(2)} at the end.\n`);
    console.log(row(['round', 'by hand: create', 'wait', 'exec tar czf', 'delete --wait', 'by hand, total', 'nkvm backup, total', 'nkvm / by hand', 'other processes (cores)']));
    console.log(row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    rounds.forEach((r, i) => {
      const k = r.kubectl;
      console.log(row([i + 1, seconds(k.createMs), seconds(k.waitMs), seconds(k.execMs), seconds(k.deleteMs), seconds(k.totalMs), seconds(r.nkvm.totalMs), (r.nkvm.totalMs / k.totalMs).toFixed(3), r.othersCores.toFixed(2)]));
    });
    const byHand = median(rounds.map((r) => r.kubectl.totalMs));
    const nkvm = median(rounds.map((r) => r.nkvm.totalMs));
    const ratio = nkvm / byHand;
    console.log(`\nArchives: by hand ${(rounds[0]!.kubectl.bytes / MB).toFixed(1)} MB, nkvm ${(rounds[0]!.nkvm.bytes / MB).toFixed(1)} MB.\n`);
    console.log('| goal | figure | result |');
    console.log('| --- | ---: | --- |');
    console.log(row([`${VOLUME_MB} MB, nkvm backup end to end / by hand (medians) <= 1.00`, `${ratio.toFixed(3)} (${seconds(nkvm)} s / ${seconds(byHand)} s)`, ratio <= 1 ? 'PASS' : '**FAIL**']));
    await benchLargeVolume(sb, bundle);
  } finally {
    await sb.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
