/** Another process kept the history lock longer than we were willing to wait. */
export class HistoryLockTimeoutError extends Error {
  override readonly name = 'HistoryLockTimeoutError';

  constructor(
    readonly lockPath: string,
    readonly waitedMs: number,
    holder: string,
  ) {
    super(
      `Timed out after ${Math.round(waitedMs / 100) / 10} s waiting for the history lock ${lockPath} ` +
        `(held by ${holder}). Retry once that process is done; if it hangs, end it and its lock is released at once.`,
    );
  }
}

/** Our lock was broken as stale while we still worked, so our write would clobber someone else's. */
export class HistoryLockLostError extends Error {
  override readonly name = 'HistoryLockLostError';

  constructor(readonly lockPath: string) {
    super(
      `The history lock ${lockPath} was taken over by another process before this write finished; ` +
        'the change was not saved. Retry the operation.',
    );
  }
}

/** The file was written by a newer NKVM; writing with an older schema could drop what it added. */
export class HistorySchemaTooNewError extends Error {
  override readonly name = 'HistorySchemaTooNewError';

  constructor(
    readonly filePath: string,
    readonly fileVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `${filePath} uses history schema version ${fileVersion}, but this NKVM only knows up to ` +
        `${knownVersion}. History can be read but not written; update NKVM to record new backups.`,
    );
  }
}
