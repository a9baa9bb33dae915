import type { BackupProgress } from '../backup/backupVolume';
import type { BackupStage } from '../backup/backupStage';
import { formatBytes, formatDuration, formatRate } from './quantityText';
import { backupStageInWords } from './stageText';

type Transfer = Pick<BackupProgress, 'bytes' | 'bytesPerSecond' | 'parallel'>;

/**
 * A backup's progress in one line, as the CLI and the progress notification show it: the stage, the bytes and
 * rate, and for a backup in parts each stream's rate, the parts done, the time left and what is sent again.
 */
export function backupProgressText(p: Transfer & { stage: BackupStage }): string {
  const transfer = p.bytes ? transferText(p) : '';
  return transfer ? `${backupStageInWords(p.stage)} ${transfer}` : backupStageInWords(p.stage);
}

/** `1.2 GiB at 38.0 MiB/s · 4 streams (9.6 MiB, ... per second) · 7 of 16 parts done · about 12.0 s left`. */
export function transferText(p: Transfer): string {
  const parts = [`${formatBytes(p.bytes)} at ${formatRate(p.bytesPerSecond)}`];
  const parallel = p.parallel;
  if (parallel) {
    const rates = parallel.streams.map((s) => formatRate(s.bytesPerSecond).replace(/\/s$/, ''));
    parts.push(`${rates.length} ${rates.length === 1 ? 'stream' : 'streams'} (${rates.join(', ')} per second)`);
    parts.push(`${parallel.parts.done} of ${parallel.parts.total} parts done`);
    if (parallel.secondsLeft !== undefined) parts.push(`about ${formatDuration(parallel.secondsLeft * 1000)} left`);
    if (parallel.resuming) parts.push(`sending ${parallel.resuming}`);
  }
  return parts.join(' · ');
}
