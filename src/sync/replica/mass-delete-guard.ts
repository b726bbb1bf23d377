export interface MassDeleteOptions {
  /** Below this many live files, any delete is ordinary. */
  readonly minFiles: number;
  /** Deleting more than this fraction of the live files in one scan pauses the space. */
  readonly fraction: number;
}

export const DEFAULT_MASS_DELETE: MassDeleteOptions = { minFiles: 100, fraction: 0.5 };

/**
 * A scan that finds most of a large folder gone is more likely an unmounted disk, a failed
 * checkout or a mistake than an intent; replicating it would delete everyone's copy.
 */
export function isMassDelete(liveFiles: number, deletedFiles: number, options: MassDeleteOptions): boolean {
  return liveFiles >= options.minFiles && deletedFiles > liveFiles * options.fraction;
}
