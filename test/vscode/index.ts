// Entry point VS Code's extension host calls (`--extensionTestsPath`): runs every compiled
// `*.test.js` next to this file with mocha and fails the run when any test fails.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export async function run(): Promise<void> {
  // Failure stacks then point at test/vscode/*.ts instead of the bundles.
  process.setSourceMapsEnabled(true);
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    // The output reaches the terminal through the browser, where colour codes only add noise.
    color: false,
    timeout: 20_000,
    slow: 5_000,
  });
  const files = readdirSync(__dirname, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.js'))
    .sort();
  for (const file of files) {
    mocha.addFile(path.join(__dirname, file));
  }
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) {
    throw new Error(`${failures} extension-host test(s) failed`);
  }
}
