import { chmod, mkdir, stat } from 'node:fs/promises';
import * as path from 'node:path';

export interface PrivateDirResult {
  readonly path: string;
  /** Folders this call created, outermost first; each has mode 0700. */
  readonly created: readonly string[];
  /** Permission bits of the folder as it is now. */
  readonly mode: number;
  /** True when group or others have any access to the folder, so the caller can warn. */
  readonly openToOthers: boolean;
}

const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `dir` and any missing parents with mode 0700, since archives and the history hold
 * cluster data. A folder that already exists is left as it is: the user may share it on purpose
 * (a team volume, a group-readable mount), and silently tightening it would break someone else.
 * `openToOthers` lets the caller warn about it instead.
 */
export async function ensurePrivateDir(dir: string): Promise<PrivateDirResult> {
  const target = path.resolve(dir);
  let firstCreated: string | undefined;
  try {
    firstCreated = await mkdir(target, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    if (isErrno(error, 'EEXIST') || isErrno(error, 'ENOTDIR')) {
      throw new Error(`Cannot create folder ${target}: a file is in the way (${(error as Error).message})`);
    }
    throw error;
  }

  const created: string[] = [];
  if (firstCreated !== undefined) {
    for (let current = target; ; current = path.dirname(current)) {
      created.unshift(current);
      if (current === firstCreated || path.dirname(current) === current) {
        break;
      }
    }
    // mkdir applies the umask; chmod makes the mode exactly 0700 whatever the umask was.
    for (const folder of created) {
      await chmod(folder, PRIVATE_DIR_MODE);
    }
  }

  const info = await stat(target);
  if (!info.isDirectory()) {
    throw new Error(`Cannot use ${target} as a folder: it is a file`);
  }
  const mode = info.mode & 0o777;
  // Windows reports synthetic POSIX bits (0o666 and the like) that say nothing about sharing.
  const openToOthers = process.platform !== 'win32' && (mode & 0o077) !== 0;
  return { path: target, created, mode, openToOthers };
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
