import { sendChatMessage, withServer } from '../../node/agent/account';
import { flag, stringOption, type CommandSpec, type ParsedArgs } from '../command-spec';
import { UsageError } from '../cli-errors';
import { viaDaemonOr } from '../via-daemon';
import { followChat, readChat } from './chat-reading';
import { CA_OPTION, connectionOf, HOME_OPTION, homeOf } from './common-options';

export const chatCommand: CommandSpec = {
  name: 'chat',
  summary: 'send a chat message, read conversations with their unread messages, or follow new ones',
  options: {
    home: HOME_OPTION,
    to: { type: 'string', value: 'NAME|SPACE', description: 'send MESSAGE to this contact, or to the members of this space' },
    read: { type: 'boolean', description: 'list conversations with their unread counts; with --with, show one and mark it read' },
    follow: { type: 'boolean', description: 'print messages as they arrive, through the running daemon, until Ctrl-C' },
    with: { type: 'string', value: 'NAME|SPACE', description: 'the conversation to read or follow: a contact, or a shared folder' },
    json: { type: 'boolean', description: 'with --read: print JSON instead of text' },
    ca: CA_OPTION,
  },
  positionals: [{ name: 'MESSAGE', description: 'the message to send with --to; its words are joined by spaces', variadic: true }],
  forms: ['--home H --to NAME|SPACE MESSAGE', '--home H --read [--with NAME|SPACE] [--json]', '--home H --follow [--with NAME|SPACE]'],
  notes: [
    'Unread messages are marked "*" and count as read once shown by --read --with or --follow; the list',
    'of conversations (--read alone) marks nothing read. --follow needs "shared-folders run" on the home.',
  ],
  run: async (args) => {
    const mode = modeOf(args);
    const home = homeOf(args);
    const withName = stringOption(args, 'with');
    if (mode === 'read') return readChat(home, withName, flag(args, 'json'), connectionOf(args));
    if (mode === 'follow') return followChat(home, withName);
    const to = stringOption(args, 'to')!;
    const text = args.positionals.join(' ');
    const id = await viaDaemonOr(
      home,
      async (d) => (await d.call('sendChat', { conversation: to, text })).message.id,
      async () => (await withServer(home, home.identity(), (session) => sendChatMessage(session, to, text), connectionOf(args))).id,
    );
    console.log(id);
  },
};

/** Which of the three things chat does; each mode's options checked together. */
function modeOf(args: ParsedArgs): 'send' | 'read' | 'follow' {
  const modes = [
    ['send', stringOption(args, 'to') !== undefined],
    ['read', flag(args, 'read')],
    ['follow', flag(args, 'follow')],
  ] as const;
  const chosen = modes.filter(([, on]) => on).map(([mode]) => mode);
  if (chosen.length === 0)
    throw new UsageError('chat needs --to NAME MESSAGE to send, --read to read, or --follow to stream (see "shared-folders chat --help")');
  if (chosen.length > 1) throw new UsageError('chat takes one of --to, --read and --follow at a time');
  const mode = chosen[0]!;
  if (mode === 'send') {
    if (stringOption(args, 'with') !== undefined)
      throw new UsageError('--with goes with --read or --follow; to send, --to names the recipient');
    if (flag(args, 'json')) throw new UsageError('--json goes with --read');
    if (args.positionals.join(' ').trim() === '')
      throw new UsageError(`chat --to ${stringOption(args, 'to')} needs a message: shared-folders chat --home H --to NAME "hello"`);
  } else {
    if (args.positionals.length > 0)
      throw new UsageError(`chat --${mode} takes no message, but was given "${args.positionals.join(' ')}": to send, use --to NAME`);
    if (mode === 'follow' && flag(args, 'json')) throw new UsageError('--json goes with --read');
  }
  return mode;
}
