import { formatBytes } from '../report/quantityText';
import type { RestoreResult } from '../restore/restoreVolume';
import { countsText, type DrillComparison } from './drillCompare';
import type { DrillResult } from './restoreDrill';

export interface DrillFacts {
  outcome: DrillResult['outcome'];
  restored: RestoreResult;
  comparison?: DrillComparison;
  archiveDifferences?: DrillComparison;
  checksum: DrillResult['checksum'];
  reference: DrillResult['reference'];
  /** Why the archive's own listing stops early, when it is the reference. */
  referenceProblem?: string;
  /** Why the temporary claim may still exist. */
  leftover?: string;
}

const NAMED = 3;

function named(c: DrillComparison): string {
  const shown = c.differences.slice(0, NAMED).map((d) => `${d.kind} ${d.path}`);
  return `${shown.join('; ')}${c.total > shown.length ? `; and ${c.total - shown.length} more` : ''}`;
}

/** The drill's outcome in words, for the history row, the tree tooltip and the command line. */
export function drillMessage(facts: DrillFacts): { message: string; nextStep?: string } {
  const { outcome, restored, comparison, archiveDifferences, checksum } = facts;
  const parts: string[] = [];
  const steps: string[] = [];
  if (checksum.matches === false) {
    parts.push(`The archive's SHA-256 (${checksum.actual}) differs from the one recorded at backup time (${checksum.recorded})`);
    if (archiveDifferences?.total) parts.push(`archive files changed since the backup: ${named(archiveDifferences)}`);
    steps.push('Do not rely on this archive for the files named; restore them from another backup, and check the disk that holds the archives.');
  }
  const against =
    facts.reference === 'backup'
      ? 'the listing recorded when the backup was made'
      : `the archive's own listing (this backup recorded none, so a file damaged before the drill would go unnoticed${
          facts.referenceProblem ? `; the archive reads only up to damage: ${facts.referenceProblem}` : ''
        })`;
  if (outcome === 'cancelled') {
    parts.push(`Cancelled during the ${restored.stage} stage`);
  } else if (comparison) {
    const through = restored.chainArchives ? ` through its chain of ${restored.chainArchives} archives` : '';
    const written = `Restored ${restored.files ?? 0} files (${formatBytes(restored.bytes ?? 0)})${through} into a temporary claim in ${restored.namespace}`;
    if (comparison.total === 0) parts.push(`${written}; all ${comparison.compared} entries match ${against}`);
    else parts.push(`${written}; ${comparison.total} differences from ${against} (${countsText(comparison.counts)}): ${named(comparison)}`);
    if (comparison.ownersNotCompared) {
      parts.push(`${comparison.ownersNotCompared} entries were written as the helper's user, so their owners were not compared (drill as root to compare them)`);
    }
    if (comparison.total && checksum.matches !== false) steps.push('Restore the files named from another backup, or run a new backup and drill it.');
  } else {
    parts.push(`The restore into a temporary claim did not complete: ${restored.message}`);
    if (restored.nextStep) steps.push(restored.nextStep);
  }
  if (facts.leftover) {
    parts.push(facts.leftover);
    steps.push(`Delete it by hand: kubectl -n ${restored.namespace} delete pvc ${restored.pvc}`);
  }
  return { message: parts.join('. ') + '.', ...(steps.length ? { nextStep: steps.join(' ') } : {}) };
}
