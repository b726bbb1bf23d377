/**
 * Every command id of the extension, by name: registrations, `executeCommand` calls, tree rows
 * and error actions all name commands through this table. package.json declares each of them
 * (contributes.commands); test/unit/vscode/commands.test.ts keeps the two lists equal and checks each is registered.
 */
export const Commands = {
  // Setting up and contacts
  setUp: 'sharedFolders.setUp',
  setUpWithLink: 'sharedFolders.setUpWithLink',
  linkDevice: 'sharedFolders.linkDevice',
  inviteContact: 'sharedFolders.inviteContact',
  addContact: 'sharedFolders.addContact',
  acceptContact: 'sharedFolders.acceptContact',
  declineContact: 'sharedFolders.declineContact',
  removeContact: 'sharedFolders.removeContact',
  // The server and the identity
  setServerAddress: 'sharedFolders.setServerAddress',
  changeServer: 'sharedFolders.changeServer',
  resetIdentity: 'sharedFolders.resetIdentity',
  openServerHelp: 'sharedFolders.openServerHelp',
  // Shared folders
  shareFolder: 'sharedFolders.shareFolder',
  shareFolderWithContact: 'sharedFolders.shareFolderWithContact',
  acceptFolder: 'sharedFolders.acceptFolder',
  declineFolder: 'sharedFolders.declineFolder',
  openInExplorer: 'sharedFolders.openInExplorer',
  addMember: 'sharedFolders.addMember',
  pauseSync: 'sharedFolders.pauseSync',
  resumeSync: 'sharedFolders.resumeSync',
  stopSharing: 'sharedFolders.stopSharing',
  leave: 'sharedFolders.leave',
  resolveMassDelete: 'sharedFolders.resolveMassDelete',
  removeMember: 'sharedFolders.removeMember',
  changeRole: 'sharedFolders.changeRole',
  // Conflicts
  resolveConflict: 'sharedFolders.resolveConflict',
  mergeConflict: 'sharedFolders.mergeConflict',
  keepMine: 'sharedFolders.keepMine',
  takeTheirs: 'sharedFolders.takeTheirs',
  keepBoth: 'sharedFolders.keepBoth',
  // Chat, activity, co-editing
  openChat: 'sharedFolders.openChat',
  chatWith: 'sharedFolders.chatWith',
  openActivity: 'sharedFolders.openActivity',
  followMember: 'sharedFolders.followMember',
  stopFollowing: 'sharedFolders.stopFollowing',
  showLog: 'sharedFolders.showLog',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];
