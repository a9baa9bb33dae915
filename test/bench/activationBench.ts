// Activation time of the extension in a real VS Code (code-server), and the size of what it ships.
// Usage: npm run bench:activation   (NKVM_BENCH_RUNS=6 for more rounds; each round opens 4 windows)
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ProbeResult } from './activationProbe';

const repoRoot = path.resolve(__dirname, '../..');
const referenceFolder = path.join(repoRoot, 'test/fixtures/reference-extension');
const rounds = Number(process.env['NKVM_BENCH_RUNS'] ?? 4);
const phases = ['startup', 'settled'] as const;
type Phase = (typeof phases)[number];
type Who = ProbeResult['extension'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Opens one window with one extension, lets the probe activate it, and returns what the probe printed. */
function openWindow(who: Who, phase: Phase): ProbeResult {
  const out = execFileSync(path.join(repoRoot, 'test/harness/bin/code'), [
    `--extensionDevelopmentPath=${who === 'nkvm' ? repoRoot : referenceFolder}`,
    `--extensionTestsPath=${path.join(repoRoot, 'out/test/bench/activationProbe')}`,
  ], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NKVM_ACTIVATION_PHASE: phase } });
  const line = /^NKVM_PROBE (.*)$/m.exec(out)?.[1];
  if (!line) throw new Error(`the probe printed no result:\n${out}`);
  return JSON.parse(line) as ProbeResult;
}

/** Both extensions in both phases; the order alternates between rounds so that neither always goes first. */
function measureRound(round: number): ProbeResult[] {
  const order: Who[] = round % 2 ? ['reference', 'nkvm'] : ['nkvm', 'reference'];
  return phases.flatMap((phase) => order.map((who) => openWindow(who, phase)));
}

function summary(values: (number | undefined)[]): string {
  const known = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (known.length === 0) return 'n/a';
  return `median ${median(known).toFixed(1)} (${known.map((v) => v.toFixed(0)).join(', ')})`;
}

function report(samples: ProbeResult[][]): void {
  const pick = (who: Who, phase: Phase) => samples.map((round) => round.find((s) => s.extension === who && s.phase === phase)!);
  for (const phase of phases) {
    const own = pick('nkvm', phase);
    const reference = pick('reference', phase);
    console.log(`\n${phase === 'startup' ? 'During start-up (activated as soon as the extension tests start)' : 'After start-up settled (activated once the machine was quiet)'}, ms:`);
    if (phase === 'settled') {
      const waits = [...own, ...reference].map((s) => s.settle!);
      console.log(`  waited for quiet: ${summary(waits.map((w) => w.waitedMs))}; quiet in ${waits.filter((w) => w.quiet).length} of ${waits.length} windows`);
    }
    for (const [who, list] of [['this extension', own], ['empty reference', reference]] as const) {
      console.log(`  ${who}:`);
      console.log(`    activation seen from outside (extension.activate())  ${summary(list.map((s) => s.outsideMs))}`);
      console.log(`    VS Code's figure (code loading + activate call)      ${summary(list.map((s) => (s.codeLoadingMs ?? NaN) + (s.activateCallMs ?? NaN)))}`);
      console.log(`      loading the code (require of the main file)        ${summary(list.map((s) => s.codeLoadingMs))}`);
      console.log(`      activate call (VS Code's marks, 1 ms resolution)   ${summary(list.map((s) => s.activateCallMs))}`);
      console.log(`    VS Code preparing the extension's context            ${summary(list.map((s) => s.contextMs))}`);
      console.log(`    extension host uptime when loading began             ${summary(list.map((s) => s.hostUptimeMs))}`);
    }
    console.log(`  this extension's share (from outside, minus the reference of the same round)  ${summary(own.map((s, i) => s.outsideMs - reference[i].outsideMs))}`);
    console.log(`  activate() itself, measured inside it                  ${summary(own.map((s) => s.activateFunctionMs))}`);
    console.log(`  first command after activation (nkvm.refresh, loads the engine)  ${summary(own.map((s) => s.firstCommandMs))}`);
  }
}

function main(): void {
  // The probe comes with the development build; the extension is then measured as it ships.
  execFileSync('node', ['esbuild.mjs'], { cwd: repoRoot, stdio: 'ignore' });
  execFileSync('node', ['esbuild.mjs', '--production'], { cwd: repoRoot, stdio: 'ignore' });
  const sizes = readdirSync(path.join(repoRoot, 'dist'), { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(repoRoot, 'dist', f)).isFile())
    .map((f) => `${f} ${(statSync(path.join(repoRoot, 'dist', f)).size / 1024).toFixed(0)} KiB`);
  console.log(`production bundles:\n  ${sizes.join('\n  ')}`);
  console.log(`${rounds} rounds of 4 windows: this extension and the empty reference, each activated during start-up and after start-up settled`);
  try {
    report(Array.from({ length: rounds }, (_, round) => measureRound(round)));
  } finally {
    execFileSync('node', ['esbuild.mjs'], { cwd: repoRoot, stdio: 'ignore' });
  }
}

main();
