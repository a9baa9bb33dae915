import * as vscode from 'vscode';

/** Shows a file or folder in the OS file manager on desktop, in the Explorer otherwise (remote, browser). */
export async function revealPath(path: string): Promise<void> {
  const uri = vscode.Uri.file(path);
  if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) {
    await vscode.commands.executeCommand('revealFileInOS', uri);
    return;
  }
  if (vscode.workspace.getWorkspaceFolder(uri)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return;
  }
  const pick = await vscode.window.showInformationMessage(path, 'Copy Path');
  if (pick) await vscode.env.clipboard.writeText(path);
}
