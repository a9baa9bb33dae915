// Runs inside a real VS Code (as an extensionTestsPath module), activates the one extension under
// test (this one or the empty reference) and prints one line `NKVM_PROBE {json}` for
// activationBench.ts. NKVM_ACTIVATION_PHASE=startup activates at once, while the window is still
// starting; NKVM_ACTIVATION_PHASE=settled first waits until the machine is quiet.
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { waitForQuietMachine, type QuietWait } from './quietMachine';

const EXTENSION_ID = 'nerdy-k8s.nerdy-k8s-volume-manager';
const REFERENCE_ID = 'nkvm-bench.activation-reference';

export interface ProbeResult {
  extension: 'nkvm' | 'reference';
  phase: 'startup' | 'settled';
  settle?: QuietWait;
  /** How long the extension host had been running when the activation began. */
  hostUptimeMs?: number;
  /** From calling extension.activate() to its promise resolving, as an extension waiting on it sees it. */
  outsideMs: number;
  /** VS Code's own steps, from the marks its extension host sets around each (see vsCodeSteps). */
  codeLoadingMs?: number;
  contextMs?: number;
  activateCallMs?: number;
  /** What the extension measured inside its activate(). */
  activateFunctionMs?: number;
  /** The first command after activation, which loads the engine bundle. */
  firstCommandMs?: number;
}

interface PerformanceMark {
  name: string;
  startTime: number;
}

/**
 * The extension host marks `code/extHost/{will,did}LoadExtensionCode/<id>` around the require of the
 * extension's main file and `{will,did}ActivateExtension/<id>` around calling activate() and awaiting
 * it: the moments its ActivationTimes (codeLoadingTime, activateCallTime, activateResolvedTime, shown by
 * "Developer: Show Running Extensions") come from. Between loading and activating it waits for the
 * extension's context (global and workspace state). The marks are an internal of VS Code, so a build
 * without them leaves these figures out.
 */
function vsCodeSteps(id: string): Pick<ProbeResult, 'codeLoadingMs' | 'contextMs' | 'activateCallMs' | 'hostUptimeMs'> {
  const marks = (globalThis as { MonacoPerformanceMarks?: { getMarks(): PerformanceMark[] } }).MonacoPerformanceMarks?.getMarks() ?? [];
  const at = (name: string) => marks.find((m) => m.name === name)?.startTime;
  const willLoad = at(`code/extHost/willLoadExtensionCode/${id}`);
  const didLoad = at(`code/extHost/didLoadExtensionCode/${id}`);
  const willActivate = at(`code/extHost/willActivateExtension/${id}`);
  const didActivate = at(`code/extHost/didActivateExtension/${id}`);
  const timeOrigin = at('code/timeOrigin');
  const span = (from?: number, to?: number) => (from !== undefined && to !== undefined ? to - from : undefined);
  return {
    codeLoadingMs: span(willLoad, didLoad),
    contextMs: span(didLoad, willActivate),
    activateCallMs: span(willActivate, didActivate),
    hostUptimeMs: span(timeOrigin, willLoad),
  };
}

export async function run(): Promise<void> {
  const phase = process.env['NKVM_ACTIVATION_PHASE'] === 'settled' ? 'settled' : 'startup';
  // The benchmark opens each window with exactly one of the two extensions.
  const id = vscode.extensions.getExtension(EXTENSION_ID) ? EXTENSION_ID : REFERENCE_ID;
  const extension = vscode.extensions.getExtension(id);
  if (!extension) throw new Error(`neither ${EXTENSION_ID} nor ${REFERENCE_ID} is loaded`);
  if (extension.isActive) throw new Error(`${id} was already active; the measurement would be empty`);
  const settle = phase === 'settled' ? await waitForQuietMachine() : undefined;

  const started = performance.now();
  const api = (await extension.activate()) as { activateMs?: number } | undefined;
  const outsideMs = performance.now() - started;
  const result: ProbeResult = { extension: id === EXTENSION_ID ? 'nkvm' : 'reference', phase, settle, outsideMs, ...vsCodeSteps(id) };
  if (id === EXTENSION_ID) {
    result.activateFunctionMs = api?.activateMs;
    const firstUse = performance.now();
    await vscode.commands.executeCommand('nkvm.refresh');
    result.firstCommandMs = performance.now() - firstUse;
  }
  console.log(`NKVM_PROBE ${JSON.stringify(result)}`);
}
