import ignore, { type Ignore } from 'ignore';

/** The file in a shared folder's root that lists what not to share, in `.gitignore` syntax. */
export const IGNORE_FILE = '.sharedignore';

/** Rules before the user's own: later rules win, so `!.git/` in `.sharedignore` shares `.git` after all. */
const DEFAULT_IGNORE_RULES = ['.git/'];

/**
 * What a folder does not share. Paths are relative and `/`-separated; a directory rule
 * (`build/`) matches only directories, and everything below an ignored directory is ignored.
 */
export class IgnoreRules {
  private readonly matcher: Ignore;

  constructor(readonly text: string = '') {
    this.matcher = ignore({ allowRelativePaths: false }).add(DEFAULT_IGNORE_RULES).add(text);
  }

  /**
   * A path the matcher cannot judge (`../x`, `/x`, `./x`: not relative in its sense, and it would
   * throw) is not ignored: it goes on to the engine's path check, which refuses it with a typed
   * problem on that path alone (validatePath), instead of failing the whole batch it came in.
   */
  ignores(path: string, directory: boolean): boolean {
    if (path === '' || !ignore.isPathValid(path)) return false;
    return this.matcher.ignores(directory ? `${path}/` : path);
  }
}
