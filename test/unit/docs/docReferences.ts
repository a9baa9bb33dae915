import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Something a document names that must exist in the project. */
export interface DocReference {
  readonly kind: 'command' | 'setting' | 'variable' | 'script' | 'path' | 'link' | 'title';
  readonly text: string;
  /** 1-based line in the document. */
  readonly line: number;
}

/** What the project offers, read from package.json, src/core/config and the file tree. */
export interface ProjectFacts {
  readonly root: string;
  readonly commands: ReadonlySet<string>;
  readonly settings: ReadonlySet<string>;
  /** Other contributed ids a document may name: views and view containers. */
  readonly otherIds: ReadonlySet<string>;
  /** Command titles as the palette shows them, e.g. `NKVM: Open Backup Report`. */
  readonly titles: readonly string[];
  readonly variables: ReadonlySet<string>;
  readonly scripts: ReadonlySet<string>;
}

/** Top-level folders whose paths a document may name in prose; each must exist in the repository. */
// (`media` is left out: `media/archive-2019` in a command line is a namespace and claim.)
const REPO_FOLDERS = ['deploy', 'docs', 'src', 'test', '.ci'];

const ID = /(?<![\w./@-])nkvm\.([A-Za-z][A-Za-z0-9]*)(?![\w/-]|\.\w)/g;
const VARIABLE = /\bNKVM_[A-Z0-9_]*[A-Z0-9]\b/g;
const SCRIPT = /\bnpm (?:run(?:-script)? ([\w:.-]+)|(start|test|stop|restart)\b)/g;
const PATH = new RegExp(`(?<![\\w./~$@:-])((?:${REPO_FOLDERS.map((f) => f.replace('.', '\\.')).join('|')})/[\\w.*<>{}/-]*)`, 'g');
const LINK = /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;
const TITLE = /\bNKVM: /g;

/** Every reference in one Markdown document. */
export function findReferences(markdown: string): DocReference[] {
  const out: DocReference[] = [];
  markdown.split('\n').forEach((text, index) => {
    const line = index + 1;
    for (const m of text.matchAll(ID)) out.push({ kind: 'command', text: `nkvm.${m[1]}`, line });
    for (const m of text.matchAll(VARIABLE)) out.push({ kind: 'variable', text: m[0], line });
    for (const m of text.matchAll(SCRIPT)) out.push({ kind: 'script', text: m[1] ?? m[2], line });
    for (const m of text.matchAll(PATH)) {
      const named = m[1].replace(/[.,:;]+$/, '');
      // `kubectl ... deploy/<name>` names a Deployment, not the deploy/ folder.
      if (/^deploy\/[\w-]+$/.test(named) && /\bkubectl\b/.test(text)) continue;
      out.push({ kind: 'path', text: named, line });
    }
    for (const m of text.matchAll(LINK)) out.push({ kind: 'link', text: m[1], line });
    for (const m of text.matchAll(TITLE)) out.push({ kind: 'title', text: text.slice(m.index + m[0].length), line });
  });
  return out;
}

/** What is wrong with one reference, or undefined when it exists. `docFile` is relative to the root. */
export function checkReference(ref: DocReference, docFile: string, facts: ProjectFacts): string | undefined {
  switch (ref.kind) {
    case 'command':
      // One pattern serves both: `nkvm.x` is a command, a setting or a view.
      return facts.commands.has(ref.text) || facts.settings.has(ref.text) || facts.otherIds.has(ref.text)
        ? undefined
        : `${ref.text} is neither a command nor a setting in package.json contributes`;
    case 'variable':
      return facts.variables.has(ref.text) ? undefined : `${ref.text} is not read anywhere in src/core/config or test/bench`;
    case 'script':
      return facts.scripts.has(ref.text) ? undefined : `npm run ${ref.text}: package.json has no script "${ref.text}"`;
    case 'path':
      return pathExists(facts.root, ref.text) ? undefined : `${ref.text} does not exist in the repository`;
    case 'link': {
      const target = ref.text.split('#')[0];
      if (/^[a-z][a-z0-9+.-]*:/i.test(ref.text) || target === '') return undefined; // URLs, mail, anchors
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(docFile), decodeURI(target)));
      return !resolved.startsWith('..') && pathExists(facts.root, resolved) ? undefined : `the link ${ref.text} points to ${resolved}, which does not exist`;
    }
    case 'title':
      return facts.titles.some((t) => ref.text.startsWith(t.slice('NKVM: '.length)))
        ? undefined
        : `"NKVM: ${ref.text.slice(0, 40)}..." is not the title of a contributed command`;
  }
}

/**
 * Whether a repository path exists. `*` and `**` are globs that must match something; a
 * placeholder such as `<namespace>` or `{a,b}` ends the part that is checked.
 */
export function pathExists(root: string, relative: string): boolean {
  const placeholder = relative.search(/[<{]/);
  const checked = placeholder === -1 ? relative : relative.slice(0, relative.lastIndexOf('/', placeholder) + 1);
  const segments = checked.split('/').filter(Boolean);
  return matchSegments(root, segments);
}

function matchSegments(dir: string, segments: string[]): boolean {
  if (!segments.length) return true;
  const [first, ...rest] = segments;
  if (first === '**') {
    if (matchSegments(dir, rest)) return true;
    return childDirs(dir).some((d) => matchSegments(path.join(dir, d), segments));
  }
  if (!first.includes('*')) {
    const next = path.join(dir, first);
    return existsSync(next) && (rest.length === 0 || (statSync(next).isDirectory() && matchSegments(next, rest)));
  }
  const regex = new RegExp(`^${first.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  const entries = existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir) : [];
  return entries.filter((e) => regex.test(e)).some((e) => matchSegments(path.join(dir, e), rest));
}

function childDirs(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'node_modules' && e.name !== '.git').map((e) => e.name);
}

interface Manifest {
  contributes?: {
    commands?: { command: string; title: string; category?: string }[];
    configuration?: { properties?: Record<string, unknown> } | { properties?: Record<string, unknown> }[];
    views?: Record<string, { id: string }[]>;
    viewsContainers?: Record<string, { id: string }[]>;
  };
  scripts?: Record<string, string>;
}

/** The project's commands, settings, variables and scripts as they are now. */
export function readProjectFacts(root: string): ProjectFacts {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
  const contributes = manifest.contributes ?? {};
  const configurations = Array.isArray(contributes.configuration) ? contributes.configuration : [contributes.configuration ?? {}];
  const variables = new Set<string>();
  // Settings variables live in src/core/config; the benchmarks read a few knobs of their own.
  for (const dir of ['src/core/config', 'test/bench'].map((d) => path.join(root, d)).filter((d) => existsSync(d))) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      // Only quoted names count: a variable the code really looks up, not one a comment mentions.
      for (const m of readFileSync(path.join(dir, file), 'utf8').matchAll(/['"`](NKVM_[A-Z0-9_]+)['"`]/g)) variables.add(m[1]);
    }
  }
  return {
    root,
    commands: new Set((contributes.commands ?? []).map((c) => c.command)),
    settings: new Set(configurations.flatMap((c) => Object.keys(c.properties ?? {}))),
    otherIds: new Set([
      ...Object.values(contributes.views ?? {}).flat().map((v) => v.id),
      ...Object.values(contributes.viewsContainers ?? {}).flat().map((v) => v.id),
    ]),
    titles: (contributes.commands ?? []).map((c) => `${c.category ? `${c.category}: ` : ''}${c.title}`),
    variables,
    scripts: new Set(Object.keys(manifest.scripts ?? {})),
  };
}

/** README.md, deploy/README.md and every Markdown file under docs/, relative to the root. */
export function documentedFiles(root: string): string[] {
  const docs: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(path.join(root, dir))) return;
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.md')) docs.push(relative);
    }
  };
  walk('docs');
  return ['README.md', 'deploy/README.md', ...docs.sort()].filter((f) => existsSync(path.join(root, f)));
}
