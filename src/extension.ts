import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Nerdy K8s Volume Manager', { log: true });
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('nkvm.showLog', () => log.show()),
  );
  log.info('[extension] activated');
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
