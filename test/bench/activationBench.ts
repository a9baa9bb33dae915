// Activation time of the extension in a real VS Code (code-server), and the size of what it ships.
// Usage: npm run bench:activation   (NKVM_BENCH_RUNS=5 for more runs)
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '../..');
const runs = Number(process.env['NKVM_BENCH_RUNS'] ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measureOnce(): { activation: number; activateFunction: number; firstCommand: number } {
  const out = execFileSync(path.join(repoRoot, 'test/harness/bin/code'), [
    `--extensionDevelopmentPath=${repoRoot}`,
    `--extensionTestsPath=${path.join(repoRoot, 'out/test/bench/activationProbe')}`,
  ], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const value = (name: string): number => Number(new RegExp(`${name}=([\\d.]+)`).exec(out)?.[1] ?? NaN);
  return { activation: value('NKVM_ACTIVATION_MS'), activateFunction: value('NKVM_ACTIVATE_FUNCTION_MS'), firstCommand: value('NKVM_FIRST_COMMAND_MS') };
}

function main(): void {
  // The probe comes with the development build; the extension is then measured as it ships.
  execFileSync('node', ['esbuild.mjs'], { cwd: repoRoot, stdio: 'ignore' });
  execFileSync('node', ['esbuild.mjs', '--production'], { cwd: repoRoot, stdio: 'ignore' });
  const sizes = readdirSync(path.join(repoRoot, 'dist'), { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(path.join(repoRoot, 'dist', f)).isFile())
    .map((f) => `${f} ${(statSync(path.join(repoRoot, 'dist', f)).size / 1024).toFixed(0)} KiB`);
  console.log(`production bundles:\n  ${sizes.join('\n  ')}`);
  const samples = Array.from({ length: runs }, measureOnce);
  console.log(`activation (bundle load + activate) over ${runs} runs: ${samples.map((s) => s.activation.toFixed(0)).join(', ')} ms; median ${median(samples.map((s) => s.activation)).toFixed(0)} ms`);
  console.log(`of which activate() itself: median ${median(samples.map((s) => s.activateFunction)).toFixed(0)} ms; the rest is loading the bundle and VS Code's own activation work`);
  console.log(`first command after activation (nkvm.refresh): median ${median(samples.map((s) => s.firstCommand)).toFixed(0)} ms`);
  execFileSync('node', ['esbuild.mjs'], { cwd: repoRoot, stdio: 'ignore' });
}

main();
