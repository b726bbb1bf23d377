import { joinSpace, leaveSpace, shareFolder, withServer } from '../../node/agent/account';
import { flag, requiredOption, type CommandSpec } from '../command-spec';
import { existingFolder, folderToBe, nameList, role } from '../cli-values';
import { viaDaemonOr } from '../via-daemon';
import { CA_OPTION, connectionOf, HOME_OPTION, homeOf } from './common-options';

export const shareCommand: CommandSpec = {
  name: 'share',
  summary: 'share a folder with contacts; prints the new space id',
  options: {
    home: HOME_OPTION,
    ca: CA_OPTION,
    path: { type: 'string', value: 'DIR', description: 'the folder to share', required: true },
    with: { type: 'string', value: 'NAME[,NAME...]', description: 'contacts to share it with; several make a group', required: true },
    role: { type: 'string', value: 'editor|reader', description: 'what they may do; reader publishes it read-only', default: 'editor' },
  },
  notes: ['They accept it with: shared-folders join --home THEIR_HOME --space ID --path DIR'],
  run: async (args) => {
    const home = homeOf(args);
    const path = existingFolder(requiredOption(args, 'path'), '--path');
    const names = nameList(requiredOption(args, 'with'), '--with');
    const asRole = role(requiredOption(args, 'role'));
    const space = await viaDaemonOr(
      home,
      async (d) => (await d.call('share', { path, with: names, role: asRole })).space,
      () => withServer(home, home.identity(), (session) => shareFolder(session, path, names, asRole), connectionOf(args)),
    );
    console.log(space);
  },
};

export const joinCommand: CommandSpec = {
  name: 'join',
  summary: 'accept a folder shared with you, syncing it at --path',
  options: {
    home: HOME_OPTION,
    ca: CA_OPTION,
    space: { type: 'string', value: 'ID', description: 'the space id "share" printed for the sharer', required: true },
    path: { type: 'string', value: 'DIR', description: 'where your copy goes (created if missing)', required: true },
    merge: { type: 'boolean', description: 'join into a folder that already has files, merging them (conflicts keep both)' },
  },
  run: async (args) => {
    const home = homeOf(args);
    const space = requiredOption(args, 'space');
    const path = folderToBe(requiredOption(args, 'path'), '--path');
    const merge = flag(args, 'merge');
    await viaDaemonOr(
      home,
      async (d) => void (await d.call('join', { space, path, merge })),
      () => withServer(home, home.identity(), (session) => joinSpace(session, space, path, { merge }), connectionOf(args)),
    );
    console.log(space);
  },
};

export const leaveCommand: CommandSpec = {
  name: 'leave',
  summary: 'leave a shared folder; your copy of its files stays where it is',
  options: {
    home: HOME_OPTION,
    ca: CA_OPTION,
    space: { type: 'string', value: 'ID', description: 'the space to leave ("status" lists them)', required: true },
  },
  run: async (args) => {
    const home = homeOf(args);
    const space = requiredOption(args, 'space');
    const local = home.spaces().find((s) => s.id === space);
    await viaDaemonOr(
      home,
      async (d) => void (await d.call('leave', { space })),
      () => withServer(home, home.identity(), (session) => leaveSpace(session, space), connectionOf(args)),
    );
    console.log(local ? `left ${space}: the files stay in ${local.path}, no longer synced` : `left ${space}`);
  },
};
