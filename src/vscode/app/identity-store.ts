import type * as vscode from 'vscode';

/** The one SecretStorage entry that holds this device's keys; they never touch the disk in clear. */
const KEYS_SECRET = 'sharedFolders.deviceKeys';

export class IdentityStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** Fires when the keys entry changes (stored here, by another window, or by the keychain coming back). */
  onDidChangeKeys(listener: () => void): vscode.Disposable {
    return this.secrets.onDidChange((e) => {
      if (e.key === KEYS_SECRET) listener();
    });
  }

  keys(): Thenable<string | undefined> {
    return this.secrets.get(KEYS_SECRET);
  }

  async hasKeys(): Promise<boolean> {
    return (await this.keys()) !== undefined;
  }

  store(keys: string): Thenable<void> {
    return this.secrets.store(KEYS_SECRET, keys);
  }

  forget(): Thenable<void> {
    return this.secrets.delete(KEYS_SECRET);
  }
}
