// Runs inside a real VS Code (as an extensionTestsPath module) and prints how long activation takes:
// loading the bundle plus activate(), before anything else has activated the extension.
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';

const EXTENSION_ID = 'nerdy-k8s.nerdy-k8s-volume-manager';

export async function run(): Promise<void> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not loaded`);
  if (extension.isActive) throw new Error('the extension was already active; the measurement would be empty');
  const started = performance.now();
  const api = (await extension.activate()) as { activateMs?: number };
  const activation = performance.now() - started;
  console.log(`NKVM_ACTIVATE_FUNCTION_MS=${api.activateMs}`);
  const firstUse = performance.now();
  await vscode.commands.executeCommand('nkvm.refresh');
  console.log(`NKVM_ACTIVATION_MS=${activation.toFixed(1)}`);
  console.log(`NKVM_FIRST_COMMAND_MS=${(performance.now() - firstUse).toFixed(1)}`);
}
