/**
 * src/vscode/trees/: what the tree views share: rows as plain data (this file), their adapter to
 * vscode.TreeItem (tree-item-adapter.ts), presence icons.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 *
 * A tree row as plain data, so the trees' contents are built and tested without VS Code; one
 * adapter (tree-item-adapter.ts) turns it into a `vscode.TreeItem`.
 */
import type { CommandId } from '../app/commands';

/** What a row stands for; commands invoked on a row receive the row and read this. */
export type TreeRef =
  | { readonly kind: 'contact'; readonly user: string }
  | { readonly kind: 'pendingContact'; readonly code: string }
  | { readonly kind: 'space'; readonly space: string }
  | { readonly kind: 'member'; readonly space: string; readonly user: string }
  /** `copy` picks one conflict when a file has several copies; without it, the file's oldest. */
  | { readonly kind: 'conflict'; readonly space: string; readonly path: string; readonly copy?: string }
  | { readonly kind: 'invitation'; readonly space: string }
  | { readonly kind: 'spaceError'; readonly space: string; readonly path: string }
  /** `path` picks one file of an entry about several. */
  | { readonly kind: 'activity'; readonly entry: string; readonly path?: string }
  | { readonly kind: 'message'; readonly text: string };

export interface TreeIcon {
  /** A codicon id, as in `new ThemeIcon(id)`. */
  readonly id: string;
  /** A theme colour id, as in `new ThemeColor(id)`. */
  readonly color?: string;
}

export interface TreeCommand {
  readonly command: CommandId;
  readonly title: string;
  readonly arguments?: readonly unknown[];
}

export interface TreeNode {
  /** Stable across refreshes, so VS Code keeps selection and expansion. */
  readonly id: string;
  readonly ref: TreeRef;
  readonly label: string;
  readonly description?: string;
  readonly tooltip?: string;
  readonly icon?: TreeIcon;
  /** Space-separated flags that menus' `viewItem` clauses match, e.g. `space owner running`. */
  readonly contextValue: string;
  readonly command?: TreeCommand;
  /** Absolute path of the file or folder the row stands for, when it has one. */
  readonly resourcePath?: string;
  readonly children?: readonly TreeNode[];
  readonly expanded?: boolean;
}

/**
 * The reference a command was invoked with: a row (context menus and inline actions pass the
 * element), a bare reference (row commands and links pass one), or nothing (the palette).
 */
export function refOf(arg: unknown): TreeRef | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const candidate = 'ref' in arg ? (arg as { ref: unknown }).ref : arg;
  if (typeof candidate !== 'object' || candidate === null || typeof (candidate as { kind?: unknown }).kind !== 'string') return undefined;
  return candidate as TreeRef;
}

export function refOfKind<K extends TreeRef['kind']>(arg: unknown, kind: K): Extract<TreeRef, { kind: K }> | undefined {
  const ref = refOf(arg);
  return ref?.kind === kind ? (ref as Extract<TreeRef, { kind: K }>) : undefined;
}
