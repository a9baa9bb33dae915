import { unlink } from 'node:fs/promises';
import { errnoCode } from './errnoCode';

/** Deletes a file; one that is already gone is the outcome we wanted, any other error is not. */
export async function unlinkIfPresent(filePath: string): Promise<void> {
  try {
    await unlink(filePath);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') {
      throw error;
    }
  }
}
