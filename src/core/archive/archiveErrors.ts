/** Where reading a `.tar.gz` failed: in the gzip layer (bytes damaged or cut off) or the tar layer. */
export type ArchiveLayer = 'gzip' | 'tar';

/** The archive cannot be read to the end; names the last entry that was read whole, if any. */
export class ArchiveDamagedError extends Error {
  override readonly name = 'ArchiveDamagedError';
  constructor(
    readonly archivePath: string,
    readonly layer: ArchiveLayer,
    /** The last entry read before the damage; undefined when the damage is before the first one. */
    readonly afterEntry: string | undefined,
    readonly detail: string,
  ) {
    super(
      `${archivePath} is damaged: ${layer === 'gzip' ? 'gzip data' : 'tar structure'} broken ` +
        `${afterEntry === undefined ? 'before the first entry' : `after entry ${afterEntry}`} (${detail})`,
    );
  }
}

export class ArchiveEntryNotFoundError extends Error {
  override readonly name = 'ArchiveEntryNotFoundError';
  constructor(readonly archivePath: string, readonly entryPath: string) {
    super(`${entryPath} is not in ${archivePath}`);
  }
}

/** The entry exists but cannot be read as file content (a folder, a symlink, a device). */
export class ArchiveEntryNotAFileError extends Error {
  override readonly name = 'ArchiveEntryNotAFileError';
  constructor(readonly entryPath: string, readonly entryType: string) {
    super(`${entryPath} is a ${entryType}, not a file`);
  }
}

export class ArchiveEntryTooLargeError extends Error {
  override readonly name = 'ArchiveEntryTooLargeError';
  constructor(readonly entryPath: string, readonly size: number, readonly maxBytes: number) {
    super(`${entryPath} is ${size} bytes, more than the ${maxBytes} bytes allowed here`);
  }
}
