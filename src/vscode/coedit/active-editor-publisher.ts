import * as vscode from 'vscode';
import type { EngineSession } from '../engine/engine-session';
import { locateInSpaces } from '../app/space-paths';

/** `top` (the first visible line) goes out at most this often while the user scrolls. */
const THROTTLE_MS = 100;

/** Whom this window follows (FollowMember), so the followed member learns it. */
export interface FollowSource {
  readonly followed: { readonly user: string; readonly space: string } | undefined;
  readonly onDidChangeFollowing: vscode.Event<void>;
}

/**
 * Tells the other members where this device's user is: the shared file in the active editor and
 * its first visible line (so they can Follow), or none; and whom the user follows, so that
 * member sees it. Throttled, the last value always sent.
 */
export class ActiveEditorPublisher implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSentAt = 0;
  private lastSent = '';

  constructor(
    private readonly engine: EngineSession,
    private readonly follow: FollowSource,
  ) {
    this.disposables.push(
      follow.onDidChangeFollowing(() => this.schedule()),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        if (e.textEditor === vscode.window.activeTextEditor) this.schedule();
      }),
      engine.onDidChangeRunning((running) => {
        if (running) this.resend();
      }),
      engine.onDidRestartHost(() => this.resend()),
      engine.onDidChangeStatus(() => this.schedule()),
    );
  }

  private resend(): void {
    this.lastSent = '';
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentAt + THROTTLE_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publish();
    }, wait);
  }

  private publish(): void {
    if (!this.engine.running) return;
    const params = this.current();
    const key = JSON.stringify(params);
    if (key === this.lastSent) return;
    this.lastSent = key;
    this.lastSentAt = Date.now();
    this.engine.call('setActiveEditor', params).catch(() => {
      this.lastSent = ''; // not told: try again with the next change
    });
  }

  private current(): { space?: string; path?: string; top?: number; following?: string } {
    const editor = vscode.window.activeTextEditor;
    const spaces = this.engine.status?.spaces.filter((s) => s.role !== undefined) ?? [];
    const followed = this.follow.followed;
    const located = editor?.document.uri.scheme === 'file' ? locateInSpaces(editor.document.uri.fsPath, spaces) : undefined;
    if (located && located.path !== '') {
      const here = { space: located.space.id, path: located.path, top: editor?.visibleRanges[0]?.start.line ?? 0 };
      // The followed member hears it only through a space they are a member of.
      const theirs = followed && located.space.members.some((m) => m.user === followed.user);
      return theirs ? { ...here, following: followed.user } : here;
    }
    // In no shared file (yet): the followed member's space carries "following".
    return followed && spaces.some((s) => s.id === followed.space) ? { space: followed.space, following: followed.user } : {};
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
