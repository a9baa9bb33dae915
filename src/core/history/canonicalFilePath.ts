import { realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode } from './errnoCode';

/**
 * Resolves symlinks so the lock and the rename act on the real file: renaming over a symlink
 * would replace the link with a plain file and leave the real database behind.
 */
export async function canonicalFilePath(filePath: string): Promise<string> {
  try {
    return await realpath(filePath);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') {
      throw error;
    }
    return path.join(await realpath(path.dirname(filePath)), path.basename(filePath));
  }
}
