import type { BackupTarget } from '../core/backup/backupVolume';

/** What the report's buttons start outside the report itself, supplied by whoever wires the panel. */
export interface ReportActions {
  /** Backs up these volumes again, e.g. by running the back-up command with them as targets. */
  rerun(targets: BackupTarget[]): Thenable<unknown>;
  /** The folder archives are written to, for "Open archive folder". */
  archiveFolder(): string | undefined;
}
