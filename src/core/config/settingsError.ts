import type { HelperSettingKey } from './helperSettings';
import type { ArchiveSettingKey } from './archiveSettings';
import type { SettingKey } from './nkvmSettings';

export interface SettingProblem {
  readonly key: SettingKey | HelperSettingKey | ArchiveSettingKey | 'backup.hooks';
  /** The variable or setting that holds the bad value, e.g. `NKVM_MAX_NAMESPACE_SCAN`. */
  readonly name: string;
  readonly source: 'env' | 'setting';
  readonly message: string;
}

/**
 * Thrown when one or more values cannot be used. All problems are reported at once so a user
 * fixing their environment does not have to restart once per mistake.
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';

  constructor(readonly problems: readonly SettingProblem[]) {
    super(problems.map((problem) => problem.message).join('; '));
  }
}
