import * as vscode from 'vscode';
import type { CommandRunner } from '../app/command-runner';
import { inviteFromUri } from './invite-link';

/** Handles `vscode://shared-folders.shared-folders/invite?code=…`: the code becomes a pending contact request. */
export class InviteUriHandler implements vscode.UriHandler {
  constructor(
    private readonly runner: CommandRunner,
    private readonly openInvite: (code: string) => Promise<void>,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  handleUri(uri: vscode.Uri): void {
    const code = inviteFromUri(uri.path, uri.query);
    if (!code) {
      this.log.warn(`ignored URI ${uri.path}`);
      return;
    }
    void this.runner.run('openInvite', () => this.openInvite(code));
  }
}
