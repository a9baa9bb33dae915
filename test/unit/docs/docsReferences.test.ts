import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkReference, documentedFiles, findReferences, readProjectFacts, type ProjectFacts } from './docReferences';

const repoRoot = path.resolve(__dirname, '../../..');

/** Every problem in one document, as `file:line: what is wrong`. */
function problemsIn(file: string, markdown: string, facts: ProjectFacts): string[] {
  const problems = findReferences(markdown).flatMap((ref) => {
    const problem = checkReference(ref, file, facts);
    return problem ? [`${file}:${ref.line}: ${problem}`] : [];
  });
  return [...new Set(problems)];
}

describe('what the documentation names exists', () => {
  const facts = readProjectFacts(repoRoot);
  const files = documentedFiles(repoRoot);

  it('reads README.md, deploy/README.md and the documents under docs/', () => {
    for (const required of ['README.md', 'deploy/README.md', 'docs/operations/runbook.md', 'docs/adr/adr-001-architecture.md', 'docs/adr/adr-002-auth.md', 'docs/operations/adr-002-release-acceptance-checklist.md']) {
      assert.ok(files.includes(required), `${required} is missing`);
    }
  });

  for (const file of documentedFiles(repoRoot)) {
    it(`${file}: commands, settings, variables, scripts, paths and links`, () => {
      const markdown = readFileSync(path.join(repoRoot, file), 'utf8');
      const references = findReferences(markdown);
      assert.ok(references.length > 0, `${file} names nothing this test can check; is the pattern list still right?`);
      assert.deepEqual(problemsIn(file, markdown, facts), []);
    });
  }
});

describe('the documentation reference check', () => {
  let root: string;
  let facts: ProjectFacts;

  before(() => {
    // A tiny project with one of each kind, so the check is seen to fail as well as pass.
    root = mkdtempSync(path.join(tmpdir(), 'nkvm-docs-'));
    mkdirSync(path.join(root, 'src/core/config'), { recursive: true });
    mkdirSync(path.join(root, 'deploy/k8s/rbac'), { recursive: true });
    mkdirSync(path.join(root, 'docs/adr'), { recursive: true });
    mkdirSync(path.join(root, 'test/unit'), { recursive: true });
    writeFileSync(path.join(root, 'src/core/config/settings.ts'), "// NKVM_ONLY_IN_A_COMMENT\nconst v = { envVar: 'NKVM_BACKUP_DIR' };\n");
    writeFileSync(path.join(root, 'deploy/k8s/rbac/serviceaccount.yaml'), '');
    writeFileSync(path.join(root, 'docs/adr/adr-002-auth.md'), '');
    writeFileSync(
      path.join(root, 'package.json'),
      JSON.stringify({
        contributes: {
          commands: [{ command: 'nkvm.openReport', title: 'Open Backup Report', category: 'NKVM' }],
          configuration: { properties: { 'nkvm.backupDir': {} } },
          views: { nkvm: [{ id: 'nkvm.volumes' }] },
        },
        scripts: { package: 'vsce package', test: 'mocha' },
      }),
    );
    facts = readProjectFacts(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const problems = (markdown: string, file = 'docs/operations/runbook.md') => problemsIn(file, markdown, facts);

  it('accepts what exists', () => {
    const markdown = [
      'Run **NKVM: Open Backup Report** (`nkvm.openReport`), set `nkvm.backupDir` or `NKVM_BACKUP_DIR`, open the `nkvm.volumes` view.',
      '`npm run package`, then `npm test`. Apply `deploy/k8s/rbac/serviceaccount.yaml` (all of `deploy/k8s/rbac/*.yaml`).',
      'See [ADR-002](../adr/adr-002-auth.md#decision), [the site](https://example.com/src/missing.ts) and `test/unit/<area>/x.test.ts`.',
      'Helper pods carry `nkvm.dev/pvc`; the bundle is `dist/nkvm.js`; every `NKVM_*` variable.',
      '`kubectl -n x exec deploy/nerdy-k8s-volume-manager -- ls` names a Deployment, not a file.',
    ].join('\n');
    assert.deepEqual(problems(markdown), []);
  });

  it('rejects a command, setting, variable, script, path, link or title that does not exist', () => {
    const markdown = [
      '`nkvm.checkPermissions`',
      '`nkvm.backupFolder`',
      '`NKVM_ONLY_IN_A_COMMENT` and `NKVM_RESTORE_DIR`',
      '`npm run lint`',
      '`deploy/k8s/rbac/role.yaml` and `docs/*.txt`',
      '[checklist](adr-002-release-acceptance-checklist.md)',
      '**NKVM: Check Permissions**',
      'Build with `deploy/Containerfile`.',
    ].join('\n');
    assert.deepEqual(problems(markdown), [
      'docs/operations/runbook.md:1: nkvm.checkPermissions is neither a command nor a setting in package.json contributes',
      'docs/operations/runbook.md:2: nkvm.backupFolder is neither a command nor a setting in package.json contributes',
      'docs/operations/runbook.md:3: NKVM_ONLY_IN_A_COMMENT is not read anywhere in src/core/config or test/bench',
      'docs/operations/runbook.md:3: NKVM_RESTORE_DIR is not read anywhere in src/core/config or test/bench',
      'docs/operations/runbook.md:4: npm run lint: package.json has no script "lint"',
      'docs/operations/runbook.md:5: deploy/k8s/rbac/role.yaml does not exist in the repository',
      'docs/operations/runbook.md:5: docs/*.txt does not exist in the repository',
      'docs/operations/runbook.md:6: the link adr-002-release-acceptance-checklist.md points to docs/operations/adr-002-release-acceptance-checklist.md, which does not exist',
      'docs/operations/runbook.md:7: "NKVM: Check Permissions**..." is not the title of a contributed command',
      'docs/operations/runbook.md:8: deploy/Containerfile does not exist in the repository',
    ]);
  });

  it('resolves links from the document’s own folder, as GitHub does', () => {
    assert.deepEqual(problems('[auth](docs/adr/adr-002-auth.md)', 'README.md'), []);
    assert.equal(problems('[auth](docs/adr/adr-002-auth.md)', 'deploy/README.md').length, 1);
    assert.deepEqual(problems('[auth](../docs/adr/adr-002-auth.md)', 'deploy/README.md'), []);
  });
});
