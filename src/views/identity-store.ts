import type * as vscode from 'vscode';

/** The one SecretStorage entry that holds this device's keys; they never touch the disk in clear. */
const KEYS_SECRET = 'sharedFolders.deviceKeys';

export class IdentityStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

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
