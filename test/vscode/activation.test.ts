import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './sandboxForTests';

describe('Activation', () => {
  it('the extension is installed and activates', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('registers exactly the commands package.json contributes', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    await extension.activate();
    const manifest = JSON.parse(readFileSync(join(extension.extensionPath, 'package.json'), 'utf8'));
    const contributed: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
    // VS Code itself adds `nkvm.volumes.focus` and the like for each contributed view.
    const views: string[] = Object.values<{ id: string }[]>(manifest.contributes.views).flat().map((v) => `${v.id}.`);
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('nkvm.') && !views.some((v) => c.startsWith(v))).sort();
    assert.deepEqual(registered, contributed);
  });

  it('contributes every setting with a description and a scope', () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
    for (const [key, spec] of Object.entries<{ markdownDescription?: string; description?: string; scope?: string }>(manifest.contributes.configuration.properties)) {
      assert.ok(spec.markdownDescription || spec.description, `${key} has no description`);
      assert.ok(spec.scope, `${key} has no scope`);
    }
  });
});
