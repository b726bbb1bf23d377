export interface MassDeleteOptions {
  /** Below this many live files, only a scan that finds every file gone pauses. */
  readonly minFiles: number;
  /** Deleting more than this fraction of the live files in one scan pauses the space. */
  readonly fraction: number;
}

export const DEFAULT_MASS_DELETE: MassDeleteOptions = { minFiles: 100, fraction: 0.5 };

/**
 * A scan that finds most of a large folder gone, or every file of a folder of any size, is more
 * likely an unmounted disk, a folder swapped for an empty one, a failed checkout or a mistake than
 * an intent; replicating it would delete everyone's copy. Such a scan pauses and asks.
 */
/**
 * `liveFiles`: the index's live files; `filesOnDisk`: those of them the engine believes are on this
 * disk (not those still to fetch), which a scan that empties the folder finds gone, every one.
 */
export function isMassDelete(liveFiles: number, deletedFiles: number, options: MassDeleteOptions, filesOnDisk = liveFiles): boolean {
  if (filesOnDisk > 0 && deletedFiles >= filesOnDisk) return true;
  return liveFiles >= options.minFiles && deletedFiles > liveFiles * options.fraction;
}
