// Activation time of the extension in a real VS Code (code-server), and the size of what it ships.
// Usage: npm run bench:activation   (NKVM_BENCH_RUNS=5 for more runs)
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../..');
const runs = Number(process.env['NKVM_BENCH_RUNS'] ?? 4);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Sample {
  activation: number;
  reference: number;
  activateFunction: number;
  firstCommand: number;
}

function openWindow(extensionFolder: string): (name: string) => number {
  const out = execFileSync(path.join(repoRoot, 'test/harness/bin/code'), [
    `--extensionDevelopmentPath=${extensionFolder}`,
    `--extensionTestsPath=${path.join(repoRoot, 'out/test/bench/activationProbe')}`,
  ], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (name) => Number(new RegExp(`${name}=([\\d.]+)`).exec(out)?.[1] ?? NaN);
}

/** One window with this extension and one with the empty reference, in alternating order. */
function measureOnce(run: number): Sample {
  const referenceFolder = path.join(repoRoot, 'test/fixtures/reference-extension');
  let value: (name: string) => number;
  let reference: (name: string) => number;
  if (run % 2) {
    value = openWindow(repoRoot);
    reference = openWindow(referenceFolder);
  } else {
    reference = openWindow(referenceFolder);
    value = openWindow(repoRoot);
  }
  return {
    activation: value('NKVM_ACTIVATION_MS'),
    reference: reference('NKVM_REFERENCE_ACTIVATION_MS'),
    activateFunction: value('NKVM_ACTIVATE_FUNCTION_MS'),
    firstCommand: value('NKVM_FIRST_COMMAND_MS'),
  };
}

function main(): void {
  // The probe comes with the development build; the extension is then measured as it ships.
  execFileSync('node', ['esbuild.mjs'], { cwd: repoRoot, stdio: 'ignore' });
  execFileSync('node', ['esbuild.mjs', '--production'], { cwd: repoRoot, stdio: 'ignore' });
  const sizes = readdirSync(path.join(repoRoot, 'dist'), { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(repoRoot, 'dist', f)).isFile())
    .map((f) => `${f} ${(statSync(path.join(repoRoot, 'dist', f)).size / 1024).toFixed(0)} KiB`);
  console.log(`production bundles:\n  ${sizes.join('\n  ')}`);
  const samples = Array.from({ length: runs }, (_, run) => measureOnce(run));
  console.log(`activation (bundle load + activate) over ${runs} runs: ${samples.map((s) => s.activation.toFixed(0)).join(', ')} ms; median ${median(samples.map((s) => s.activation)).toFixed(0)} ms`);
  console.log(`empty reference extension, windows alternated with these: ${samples.map((s) => s.reference.toFixed(0)).join(', ')} ms; median ${median(samples.map((s) => s.reference)).toFixed(0)} ms`);
  console.log(`this extension's own share (activation minus the reference of the same round): median ${median(samples.map((s) => s.activation - s.reference)).toFixed(0)} ms`);
  console.log(`of which activate() itself: median ${median(samples.map((s) => s.activateFunction)).toFixed(0)} ms; the rest is loading the bundle and VS Code's own activation work`);
  console.log(`first command after activation (nkvm.refresh): median ${median(samples.map((s) => s.firstCommand)).toFixed(0)} ms`);
  execFileSync('node', ['esbuild.mjs'], { cwd: repoRoot, stdio: 'ignore' });
}

main();
