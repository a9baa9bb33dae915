// Runs inside a real VS Code (as an extensionTestsPath module) and prints how long activation takes:
// loading the bundle plus activate(), before anything else has activated the extension. An empty
// reference extension is measured the same way in other windows of the same run, so VS Code's own
// share can be told apart.
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';

const EXTENSION_ID = 'nerdy-k8s.nerdy-k8s-volume-manager';
const REFERENCE_ID = 'nkvm-bench.activation-reference';

async function timeActivation(id: string): Promise<{ ms: number; activateMs?: number }> {
  const extension = vscode.extensions.getExtension(id);
  if (!extension) throw new Error(`${id} is not loaded`);
  if (extension.isActive) throw new Error(`${id} was already active; the measurement would be empty`);
  const started = performance.now();
  const api = (await extension.activate()) as { activateMs?: number };
  return { ms: performance.now() - started, activateMs: api.activateMs };
}

export async function run(): Promise<void> {
  // The benchmark alternates windows that load this extension with windows that load the reference.
  if (vscode.extensions.getExtension(REFERENCE_ID)) {
    console.log(`NKVM_REFERENCE_ACTIVATION_MS=${(await timeActivation(REFERENCE_ID)).ms.toFixed(1)}`);
    return;
  }
  const own = await timeActivation(EXTENSION_ID);
  console.log(`NKVM_ACTIVATE_FUNCTION_MS=${own.activateMs}`);
  const firstUse = performance.now();
  await vscode.commands.executeCommand('nkvm.refresh');
  console.log(`NKVM_ACTIVATION_MS=${own.ms.toFixed(1)}`);
  console.log(`NKVM_FIRST_COMMAND_MS=${(performance.now() - firstUse).toFixed(1)}`);
}
