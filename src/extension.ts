import * as vscode from 'vscode';
import { ActiveEditorPublisher } from './vscode/coedit/active-editor-publisher';
import { ActivityTree } from './vscode/activity/activity-tree';
import { ChatView } from './vscode/chat/chat-view';
import { CoeditController } from './vscode/coedit/coedit-controller';
import { CommandRunner } from './vscode/app/command-runner';
import { ConflictDecorations } from './vscode/conflicts/conflict-decorations';
import { ConflictDocuments } from './vscode/conflicts/conflict-documents';
import { ConflictFocus } from './vscode/conflicts/conflict-focus';
import { ConflictResolver } from './vscode/conflicts/conflict-resolver';
import { ContactCommands } from './vscode/contacts/contact-commands';
import { ContactsTree } from './vscode/contacts/contacts-tree';
import { ContextKeys } from './vscode/app/context-keys';
import { EditorActivity } from './vscode/app/editor-activity';
import { connectEngine } from './vscode/engine/engine-connection';
import { EngineSession } from './vscode/engine/engine-session';
import { EngineStarter } from './vscode/engine/engine-starter';
import { FolderCommands } from './vscode/folders/folder-commands';
import { FollowMember } from './vscode/coedit/follow-member';
import { FollowersStatus } from './vscode/coedit/followers-status';
import { FoldersTree } from './vscode/folders/folders-tree';
import { IdentityCommands } from './vscode/contacts/identity-commands';
import { IdentityStore } from './vscode/app/identity-store';
import { InviteUriHandler } from './vscode/contacts/invite-uri-handler';
import { Notifications } from './vscode/app/notifications';
import { RemoteChangeDecorations } from './vscode/decorations/remote-change-decorations';
import { Settings } from './vscode/app/settings';
import { StatusBar } from './vscode/app/status-bar';
import { TransferProgress } from './vscode/app/transfer-progress';
import { ViewContext } from './vscode/app/view-context';
import { Commands } from './vscode/app/commands';

/** Set by activate: deactivate waits for the engine host to flush its journals and exit. */
let stopEngine: (() => Promise<void>) | undefined;

/**
 * Composition root: builds the views and services and hands every disposable to the context.
 * Nothing heavy runs here; the engine host is forked after activate returns.
 */
export function activate(context: vscode.ExtensionContext): void {
  const began = Date.now();
  const log = vscode.window.createOutputChannel('Shared Folders', { log: true });
  const runner = new CommandRunner(log);
  const settings = new Settings();
  const identities = new IdentityStore(context.secrets);
  const session = new EngineSession(() => connectEngine(context.extensionUri, log), log);
  const starter = new EngineStarter(session, identities, settings, context.globalStorageUri.fsPath, log);
  const keys = new ContextKeys();
  const statusBar = new StatusBar(session);
  const viewContext = new ViewContext(session, keys, identities, (has) => statusBar.setHasIdentity(has));

  const folders = new FoldersTree(session);
  const folderCommands = new FolderCommands(session, settings, runner, (space) => folders.reveal(space));
  const contactCommands = new ContactCommands(session, identities, settings, runner, context.globalState);
  const identityCommands = new IdentityCommands(
    session,
    starter,
    identities,
    settings,
    runner,
    context.globalStorageUri.fsPath,
    context.extensionUri,
  );
  const contacts = new ContactsTree(
    session,
    (path, user) => void runner.run('shareFolder', () => folderCommands.share({ path, users: [user] })),
  );
  const activity = new ActivityTree(session, settings, (space) => folders.reveal(space));
  const chat = new ChatView(context.extensionUri, session, runner);
  const conflictFocus = new ConflictFocus(session, keys);
  const conflicts = new ConflictResolver(session, runner, conflictFocus);
  const follow = new FollowMember(session, runner);

  context.subscriptions.push(
    log,
    settings,
    session,
    starter,
    statusBar,
    viewContext,
    folders,
    contacts,
    activity,
    chat,
    conflictFocus,
    conflicts,
    new ConflictDocuments(session),
    new ConflictDecorations(session),
    new RemoteChangeDecorations(session, context.workspaceState),
    new TransferProgress(session),
    new Notifications(session, settings, runner),
    new EditorActivity(session),
    new CoeditController(session, settings, log),
    new ActiveEditorPublisher(session, follow),
    new FollowersStatus(session),
    follow,
    ...follow.register(),
    ...contactCommands.register(),
    ...identityCommands.register(),
    ...folderCommands.register(),
    ...conflicts.register(),
    ...chat.register(),
    runner.register(Commands.showLog, () => log.show()),
    runner.register(Commands.openActivity, (arg?: unknown) => activity.open(arg)),
    vscode.window.registerUriHandler(new InviteUriHandler(runner, (code) => contactCommands.openInvite(code), log)),
    starter.onDidChangeTrust((trusted) => {
      viewContext.setTrusted(trusted);
      statusBar.setTrusted(trusted);
    }),
  );

  stopEngine = () => session.stop();
  viewContext.setTrusted(starter.trusted);
  statusBar.setTrusted(starter.trusted);
  starter.start();
  log.info(`activated in ${Date.now() - began} ms`);
}

export function deactivate(): Promise<void> | undefined {
  // Everything else is disposed through context.subscriptions, after this resolves.
  return stopEngine?.();
}
