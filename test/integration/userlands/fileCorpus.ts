import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, lchownSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';

/** A name that is not valid UTF-8 (Latin-1 `é`), as volumes written by old tools hold them. */
export const LATIN1_NAME = Buffer.from('latin1-caf\xe9.txt', 'latin1');
export const MODE_000_FILE = 'locked/mode-000.bin';
export const RESUME_FILE = 'données/résumé – 2025.txt';
/** Files whose kind a restore cannot recreate everywhere (mknod) and a backup leaves out with a note. */
export const SPECIAL_FILES = { fifo: 'specials/queue.fifo', socket: 'specials/agent.sock', charDevice: 'specials/null-device' } as const;

export interface Corpus {
  /** Stops the socket's server; the socket file stays until the folder is removed. */
  close(): void;
  /** The special files created (the char device only as root). */
  specials: string[];
}

/**
 * Fills `root` with the names and file kinds a backup and restore must carry unchanged: non-ASCII,
 * spaces, a newline, a leading dash, glob characters, backslashes, long paths and names, a name that
 * is not UTF-8; hard links, absolute and dangling symlinks, empty file and folder, a sparse file,
 * setuid/setgid/sticky bits, a mode 000 file; and a fifo, a socket and (as root) a char device.
 * Everything is owned by `uid:gid`; modes are set after the chown, which clears setuid bits.
 */
export async function buildCorpus(root: string, owner: { uid: number; gid: number }): Promise<Corpus> {
  const file = (rel: string | Buffer, content: string | Buffer = `content of ${rel.toString()}\n`): void => writeFileSync(abs(root, rel), content);
  const dir = (rel: string): void => void mkdirSync(join(root, rel), { recursive: true });
  dir('données');
  file(RESUME_FILE, 'un résumé\n');
  file('with spaces in name.txt');
  file('line\nbreak.txt');
  file('-leading-dash.txt');
  file('star*and?question.txt');
  file('back\\slash\\name.txt');
  file(LATIN1_NAME);
  const deep = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40), 'd'.repeat(40), 'e'.repeat(40), 'f'.repeat(40)].join('/');
  dir(deep);
  file(`${deep.split('/').slice(0, 3).join('/')}/over-100-bytes.txt`);
  file(`${deep}/over-255-bytes-in-total.txt`);
  file(`${'long-name-'.repeat(21)}.txt`);
  dir('hard');
  file('hard/original.txt', 'shared by three names\n');
  linkSync(join(root, 'hard/original.txt'), join(root, 'hard/second-name.txt'));
  linkSync(join(root, 'hard/original.txt'), join(root, 'third-name-at-top.txt'));
  symlinkSync('/etc/hostname', join(root, 'absolute-link'));
  symlinkSync('missing/target.txt', join(root, 'dangling-link'));
  file('empty-file', '');
  dir('empty-folder');
  const sparse = openSync(join(root, 'sparse.bin'), 'w');
  writeSync(sparse, Buffer.from('start'), 0, 5, 0);
  writeSync(sparse, Buffer.from('end'), 0, 3, 8 * 1024 * 1024);
  closeSync(sparse);
  dir('modes');
  file('modes/setuid-tool');
  file('modes/setgid-tool');
  dir('modes/setgid-folder');
  dir('modes/sticky-folder');
  dir('locked');
  file(MODE_000_FILE, 'nobody but root reads this\n');
  dir('specials');
  execFileSync('mkfifo', [join(root, SPECIAL_FILES.fifo)]);
  const server = await listen(join(root, SPECIAL_FILES.socket));
  const specials: string[] = [SPECIAL_FILES.fifo, SPECIAL_FILES.socket];
  if (process.getuid?.() === 0) {
    execFileSync('mknod', [join(root, SPECIAL_FILES.charDevice), 'c', '1', '3']);
    specials.push(SPECIAL_FILES.charDevice);
  }
  chownTree(root, owner);
  chmodSync(join(root, 'modes/setuid-tool'), 0o4755);
  chmodSync(join(root, 'modes/setgid-tool'), 0o2755);
  chmodSync(join(root, 'modes/setgid-folder'), 0o2775);
  chmodSync(join(root, 'modes/sticky-folder'), 0o1777);
  chmodSync(join(root, MODE_000_FILE), 0o000);
  return { close: () => server.close(), specials };
}

function abs(root: string, rel: string | Buffer): string | Buffer {
  return typeof rel === 'string' ? join(root, rel) : Buffer.concat([Buffer.from(`${root}/`), rel]);
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(path, () => resolve(server.unref()));
  });
}

function chownTree(root: string, owner: { uid: number; gid: number }): void {
  const walk = (dir: Buffer): void => {
    lchownSync(dir, owner.uid, owner.gid);
    for (const entry of readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
      const path = Buffer.concat([dir, Buffer.from('/'), entry.name]);
      if (entry.isDirectory()) walk(path);
      else lchownSync(path, owner.uid, owner.gid);
    }
  };
  walk(Buffer.from(root));
}

/** One entry of a tree as a restore must reproduce it; `inode` groups hard links. */
export interface TreeEntry {
  kind: 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
  inode: number;
}

/**
 * Every entry under `root` (the root left out), keyed by its path's bytes shown with JSON escapes. The
 * root's `lost+found` belongs to the file system of each volume, not to its data, so it is left out too.
 */
export function describeTree(root: string): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>();
  const walk = (dir: Buffer, rel: Buffer | undefined): void => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      if (!rel && name.toString() === 'lost+found') continue;
      const path = Buffer.concat([dir, Buffer.from('/'), name]);
      const relPath = rel ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
      const s = lstatSync(path);
      const kind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : s.isFIFO() ? 'fifo' : s.isSocket() ? 'socket' : s.isCharacterDevice() ? 'char' : 'block';
      const entry: TreeEntry = { kind, mode: (s.mode & 0o7777).toString(8).padStart(4, '0'), uid: s.uid, gid: s.gid, inode: s.ino };
      if (kind === 'file') Object.assign(entry, { size: s.size, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') });
      if (kind === 'symlink') entry.target = readlinkSync(path, { encoding: 'buffer' }).toString('latin1');
      entries.set(keyOf(relPath), entry);
      if (kind === 'dir') walk(path, relPath);
    }
  };
  walk(Buffer.from(root), undefined);
  return entries;
}

/** A path's bytes as a readable key: valid UTF-8 as is, other bytes as \xNN. */
export function keyOf(path: Buffer): string {
  const text = path.toString('utf8');
  return Buffer.from(text).equals(path) ? text : [...path].map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16)}`)).join('');
}

/** Hard-link groups: the sorted keys of each set of two or more paths sharing an inode. */
export function hardLinkGroups(tree: Map<string, TreeEntry>): string[][] {
  const byInode = new Map<number, string[]>();
  for (const [key, e] of tree) if (e.kind === 'file') byInode.set(e.inode, [...(byInode.get(e.inode) ?? []), key]);
  return [...byInode.values()].filter((g) => g.length > 1).map((g) => g.sort()).sort();
}
