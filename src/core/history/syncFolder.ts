import { open } from 'node:fs/promises';
import { errnoCode } from './errnoCode';

/** Makes a rename, creation or deletion in `folder` durable. */
export async function syncFolder(folder: string): Promise<void> {
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (error) {
    // Windows cannot open folders, and some file systems refuse to fsync one; the rename is
    // still atomic there, only its durability across a power cut is up to the OS.
    const code = errnoCode(error);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') {
      throw error;
    }
  } finally {
    await handle?.close();
  }
}
