import { spawn } from 'node:child_process';

/** The pid of a process that has already exited, as a crashed writer would leave behind. */
export async function deadProcessId(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
  if (child.pid === undefined) {
    throw new Error('could not start a short-lived process');
  }
  return child.pid;
}
