// Runs the extension-host tests (out/test/vscode, built by esbuild.mjs) in a real VS Code.
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ensureCodeServer } from './codeServerInstall';

const repoRoot = path.resolve(__dirname, '../..');

async function main(): Promise<void> {
  // Installing here rather than inside the `code` stand-in keeps the progress messages in order.
  await ensureCodeServer();
  await runTests({
    vscodeExecutablePath: path.join(repoRoot, 'test/harness/bin/code'),
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: path.join(repoRoot, 'out/test/vscode/index'),
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
