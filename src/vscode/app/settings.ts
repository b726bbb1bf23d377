import * as os from 'node:os';
import * as vscode from 'vscode';
import { defaultFolderRoot } from '../folders/folder-location';

const SECTION = 'sharedFolders';

/** Typed reads of the `sharedFolders.*` settings; defaults live in package.json. */
export class Settings implements vscode.Disposable {
  private readonly _onDidChangeLimits = new vscode.EventEmitter<void>();
  readonly onDidChangeLimits = this._onDidChangeLimits.event;
  private readonly _onDidChangeCoedit = new vscode.EventEmitter<void>();
  readonly onDidChangeCoedit = this._onDidChangeCoedit.event;
  private readonly _onDidChangeActivity = new vscode.EventEmitter<void>();
  readonly onDidChangeActivity = this._onDidChangeActivity.event;
  private readonly listener: vscode.Disposable;

  constructor() {
    this.listener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.bandwidth`)) this._onDidChangeLimits.fire();
      if (e.affectsConfiguration(`${SECTION}.coedit`)) this._onDidChangeCoedit.fire();
      if (e.affectsConfiguration(`${SECTION}.activity`)) this._onDidChangeActivity.fire();
    });
  }

  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  get server(): string {
    return this.config.get<string>('server', 'ws://127.0.0.1:7070').trim() || 'ws://127.0.0.1:7070';
  }

  /** Sets the server address for this user (all windows): used by Set Up, and shown in the welcome view. */
  setServer(address: string): Thenable<void> {
    return this.config.update('server', address.trim(), vscode.ConfigurationTarget.Global);
  }

  /** A private CA's PEM file to trust for wss://; `~` is the home folder; undefined when none is set. */
  get caFile(): string | undefined {
    const value = this.config.get<string>('caFile', '').trim();
    if (value === '') return undefined;
    return value === '~' || value.startsWith('~/') ? os.homedir() + value.slice(1) : value;
  }

  /** Direct links to other devices (PROTOCOL.md R8); on unless turned off. */
  get directConnections(): boolean {
    return this.config.get<boolean>('directConnections', true) !== false;
  }

  /** "HOST:PORT" where direct links are accepted; undefined for the default (every address, any free port). */
  get listenAddress(): string | undefined {
    const value = this.config.get<string>('listenAddress', '').trim();
    return value === '' ? undefined : value;
  }

  get ignorePatterns(): string[] {
    return this.config.get<string[]>('ignorePatterns', []).filter((p) => typeof p === 'string' && p.trim() !== '');
  }

  /** Bytes per second, undefined for unlimited (the setting is KiB/s, 0 = unlimited). */
  get limitUp(): number | undefined {
    return kibps(this.config.get<number>('bandwidth.uploadKiBps', 0));
  }

  get limitDown(): number | undefined {
    return kibps(this.config.get<number>('bandwidth.downloadKiBps', 0));
  }

  get notifyOnRemoteChanges(): boolean {
    return this.config.get<boolean>('notifyOnRemoteChanges', false);
  }

  /** Whether open files of shared folders are co-edited live with other members who have them open. */
  get coeditEnabled(): boolean {
    return this.config.get<boolean>('coedit.enabled', true);
  }

  /** Bytes; larger files are not co-edited live and replicate on save only. */
  get coeditMaxFileSize(): number {
    const value = this.config.get<number>('coedit.maxFileSize', 5_000_000);
    return Number.isFinite(value) && value >= 0 ? value : 5_000_000;
  }

  /** Milliseconds: a remote change this soon after the member's last one joins its Activity entry. */
  get activityGroupWithinMs(): number {
    const seconds = this.config.get<number>('activity.groupWithinSeconds', 60);
    return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : 60_000;
  }

  get defaultFolderLocation(): string {
    return defaultFolderRoot(this.config.get<string>('defaultFolderLocation', ''), os.homedir());
  }

  dispose(): void {
    this.listener.dispose();
    this._onDidChangeLimits.dispose();
    this._onDidChangeCoedit.dispose();
    this._onDidChangeActivity.dispose();
  }
}

function kibps(value: number): number | undefined {
  return Number.isFinite(value) && value > 0 ? Math.round(value * 1024) : undefined;
}
