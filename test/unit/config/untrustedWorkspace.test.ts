import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Manifest {
  contributes: { configuration: { properties: Record<string, unknown> } | { properties: Record<string, unknown> }[] };
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as Manifest;
const settings = Object.keys(Object.assign({}, ...[manifest.contributes.configuration].flat().map((c) => c.properties)));
const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;

/** Settings an untrusted workspace may set, each with why that is harmless. */
const UNRESTRICTED: Record<string, string> = {
  'nkvm.helperPodTimeoutSeconds': 'only how long this window waits for the helper to start; the helper itself is unchanged',
  'nkvm.discoveryTimeoutSeconds': 'only how long listing namespaces and volumes may take',
  'nkvm.maxNamespaceScan': 'only how many namespaces the tree lists',
  'nkvm.backupConcurrency': 'only how many of the volumes the user chose are backed up at once',
};

/** Names that by their form choose the helper, what is backed up, or a place on disk. */
const MUST_BE_RESTRICTED = /^nkvm\.helper|^nkvm\.backup\.|^nkvm\.retention\.|^nkvm\.compression|(?:Path|Dir|Image|Folder|File)$/;

describe('settings an untrusted workspace cannot set', () => {
  it('restricts every setting that changes the helper, what is backed up or where data goes', () => {
    const open = settings.filter((name) => MUST_BE_RESTRICTED.test(name) && !restricted.includes(name) && !(name in UNRESTRICTED));
    assert.deepEqual(open, [], `a workspace's .vscode/settings.json could set ${open.join(', ')}: add them to capabilities.untrustedWorkspaces.restrictedConfigurations`);
  });

  it('classifies every setting: restricted, or left open for a stated reason', () => {
    const unclassified = settings.filter((name) => !restricted.includes(name) && !(name in UNRESTRICTED));
    assert.deepEqual(unclassified, [], `decide whether an untrusted workspace may set ${unclassified.join(', ')}`);
    const both = Object.keys(UNRESTRICTED).filter((name) => restricted.includes(name));
    assert.deepEqual(both, []);
  });

  it('names only settings that exist, so a typo does not leave one open', () => {
    assert.deepEqual(restricted.filter((name) => !settings.includes(name)), []);
    assert.deepEqual(Object.keys(UNRESTRICTED).filter((name) => !settings.includes(name)), []);
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  });
});
