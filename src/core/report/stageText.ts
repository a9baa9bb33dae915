import type { BackupStage } from '../backup/backupStage';

const BACKUP_STAGE_WORDS: Readonly<Record<BackupStage, string>> = {
  hook: 'running application hooks',
  snapshot: 'taking a snapshot',
  clone: 'making a claim from the snapshot',
  create: 'creating the helper pod',
  wait: 'waiting for the helper pod',
  exec: 'starting the archive',
  copy: 'copying',
  checksum: 'checking the checksum',
  cleanup: 'cleaning up',
};

/** A backup stage as progress lines show it (`taking a snapshot`); an unknown stage as it came. */
export function backupStageInWords(stage: string): string {
  return Object.hasOwn(BACKUP_STAGE_WORDS, stage) ? BACKUP_STAGE_WORDS[stage as BackupStage] : stage;
}
