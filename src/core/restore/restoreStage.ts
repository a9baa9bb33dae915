import { nextStepFor, StageError, type NextStepContext } from '../backup/backupStage';

/** The stages of a helper-pod restore, in order; every failure names one of them. */
export const RESTORE_STAGES = ['create', 'wait', 'upload', 'verify', 'cleanup'] as const;
export type RestoreStage = (typeof RESTORE_STAGES)[number];

/** A restore failure at one stage, with its cause in words and what the user can do next. */
export class RestoreStageError extends Error {
  constructor(
    readonly stage: RestoreStage,
    readonly causeText: string,
    readonly nextStep: string,
    /** Evidence such as the helper pod's events, quoted for the report. */
    readonly evidence: string[] = [],
  ) {
    super(`${stage} stage failed: ${causeText}`);
    this.name = 'RestoreStageError';
  }

  /**
   * The helper-pod functions shared with backups fail with a backup StageError; their stages
   * (create, wait, cleanup) exist in a restore too, under the same names.
   */
  static from(e: StageError, fallback: RestoreStage): RestoreStageError {
    const stage = (RESTORE_STAGES as readonly string[]).includes(e.stage) ? (e.stage as RestoreStage) : fallback;
    return new RestoreStageError(stage, e.causeText, e.nextStep.replace(/\bthe backup\b/g, 'the restore'), e.evidence);
  }
}

export type RestoreNextStepContext = NextStepContext;

/** What to do after a failure at a stage that has no more specific advice; the helper-pod stages read as for backups. */
export function restoreNextStepFor(stage: RestoreStage, ctx: RestoreNextStepContext): string {
  switch (stage) {
    case 'create':
    case 'wait':
    case 'cleanup':
      return nextStepFor(stage, ctx);
    case 'upload':
      return `Check the connection to the API server, free space on the volume and the pods/exec permission (kubectl auth can-i create pods --subresource=exec -n ${ctx.namespace}), then restore again (with emptyFirst to clear what was written).`;
    case 'verify':
      return 'The volume does not hold what the archive holds: check free space and write permissions on the volume, then restore again with emptyFirst.';
  }
}
