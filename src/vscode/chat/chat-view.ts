/**
 * src/vscode/chat/: the Chat view, a webview (media/chat.js). chat-messages.ts types the messages
 * between the webview and the extension (both sides are checked against it, the webview through
 * tsconfig.webview.json); chat-model.ts is the view model.
 * Extension layer: may import vscode, src/sync and src/node/engine (the client and its protocol
 * types); never src/server, src/cli or native code. Its view models (VIEW_MODELS in
 * eslint.config.mjs) import no vscode, so unit tests run them in plain Node.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import type { ChatMessageView, EngineStatus } from '../../node/engine/engine-protocol';
import type { ChatStrings, ToWebview } from './chat-messages';
import {
  ChatState,
  TYPING_TIMEOUT_MS,
  TypingThrottle,
  chatBadge,
  conversations,
  fileCandidates,
  offlineNotice,
  parseFromWebview,
} from './chat-model';
import type { CommandRunner } from '../app/command-runner';
import type { EngineSession } from '../engine/engine-session';
import { UserFacingError } from '../app/errors';
import { pick, requireStatus } from '../app/pickers';
import { refOf } from '../trees/tree-node';
import { Commands } from '../app/commands';

export const CHAT_VIEW = 'sharedFolders.chat';

/**
 * The Chat view: a webview with one conversation per contact and per group folder. The engine
 * delivers messages to offline members through the server's mailbox, so sending always works.
 */
export class ChatView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly state: ChatState;
  private readonly throttle = new TypingThrottle();
  private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly viewDisposables: vscode.Disposable[] = [];
  private ready = false;
  private lastState: string | undefined;
  /** The conversation whose history the webview was last sent: a new selection needs its history. */
  private historyShown: string | undefined;
  private connected: boolean | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly session: EngineSession,
    private readonly runner: CommandRunner,
  ) {
    this.state = new ChatState(session.identity?.user);
    this.disposables.push(
      vscode.window.registerWebviewViewProvider(CHAT_VIEW, this, { webviewOptions: { retainContextWhenHidden: true } }),
      session.onDidChangeStatus((status) => {
        this.state.setMe(status?.identity?.user);
        const reconnected = this.connected === false && status?.connected === true;
        this.connected = status?.connected;
        this.postState();
        // Messages may have come and gone through other devices meanwhile: read the history again.
        if (reconnected && this.state.selected !== undefined) void this.reloadConversation(this.state.selected);
      }),
      session.onDidReceiveChat((m) => this.onMessage(m)),
      session.onDidReceiveTyping((t) => this.onTyping(t.conversation, t.user, t.name)),
    );
  }

  register(): vscode.Disposable[] {
    return [
      this.runner.register(Commands.openChat, (arg?: unknown) => this.openChat(arg)),
      this.runner.register(Commands.chatWith, (arg?: unknown) => this.openChat(arg)),
    ];
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    for (const d of this.viewDisposables.splice(0)) d.dispose();
    this.view = view;
    this.ready = false;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = this.html(view.webview, media);
    this.state.setVisible(view.visible);
    this.viewDisposables.push(
      view.webview.onDidReceiveMessage((raw: unknown) => {
        const message = parseFromWebview(raw);
        if (message) void this.runner.run(`chat.${message.type}`, () => this.onWebviewMessage(message));
      }),
      view.onDidChangeVisibility(() => {
        this.state.setVisible(view.visible);
        this.updateBadge();
        if (view.visible) this.postState();
      }),
      view.onDidDispose(() => {
        this.view = undefined;
        this.ready = false;
        this.state.setVisible(false);
        for (const d of this.viewDisposables.splice(0)) d.dispose();
      }),
    );
  }

  /** Opens the Chat view, on a contact's or a folder's conversation when given one. */
  async openChat(arg?: unknown): Promise<void> {
    const status = requireStatus(await this.session.readyStatus());
    let conversation = conversationOf(arg, status);
    if (conversation === undefined && arg === undefined) {
      const list = conversations(status, (id) => this.state.unread(id));
      if (list.length === 0)
        throw new UserFacingError(vscode.l10n.t('Add a contact to chat with.'), {
          title: vscode.l10n.t('Invite Contact'),
          command: Commands.inviteContact,
        });
      conversation =
        list.length === 1
          ? list[0]?.id
          : await pick(
              list.map((c) => ({
                label: c.label,
                description: c.kind === 'group' ? vscode.l10n.t('group') : c.presence,
                detail: c.unread > 0 ? vscode.l10n.t('{0} unread', c.unread) : undefined,
                value: c.id,
              })),
              vscode.l10n.t('Conversation to open'),
              '',
            );
    }
    if (conversation !== undefined) this.state.select(conversation);
    await vscode.commands.executeCommand(`${CHAT_VIEW}.focus`);
    if (conversation !== undefined) await this.showConversation(conversation);
  }

  private async onWebviewMessage(message: NonNullable<ReturnType<typeof parseFromWebview>>): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.lastState = undefined;
        this.historyShown = undefined;
        this.postState();
        if (this.state.selected !== undefined) await this.showConversation(this.state.selected);
        return;
      case 'select':
        this.state.select(message.conversation);
        this.updateBadge();
        await this.showConversation(message.conversation);
        return;
      case 'send': {
        this.throttle.reset(message.conversation);
        try {
          const { message: sent } = await this.session.call('sendChat', { conversation: message.conversation, text: message.text });
          this.onMessage(sent);
        } catch (e) {
          this.post({ type: 'sendFailed', conversation: message.conversation, text: message.text });
          throw e;
        }
        return;
      }
      case 'typing':
        if (this.throttle.shouldSend(message.conversation, Date.now())) {
          this.session.call('sendTyping', { conversation: message.conversation }).catch(() => undefined);
        }
        return;
      case 'openFile':
        return this.openFile(message.conversation, message.target);
      case 'openUrl':
        await vscode.env.openExternal(vscode.Uri.parse(message.href));
        return;
    }
  }

  private async showConversation(conversation: string): Promise<void> {
    if (this.ready) this.historyShown = conversation;
    if (!this.state.hasHistory(conversation) && this.session.running) {
      const { messages } = await this.session.call('chatHistory', { conversation });
      this.state.setHistory(conversation, messages);
    }
    this.post({ type: 'history', conversation, messages: this.state.history(conversation).map((m) => this.state.render(m)) });
    this.postTyping(conversation);
    this.postState();
  }

  /** Reads a conversation's history from the engine again (merged with what is known) and shows it. */
  private async reloadConversation(conversation: string): Promise<void> {
    await this.runner.run('chat.reload', async () => {
      if (!this.session.running) return;
      const { messages } = await this.session.call('chatHistory', { conversation });
      this.state.setHistory(conversation, messages);
      if (this.state.selected === conversation) await this.showConversation(conversation);
    });
  }

  private onMessage(message: ChatMessageView): void {
    if (!this.state.receive(message)) return;
    if (this.state.selected === message.conversation) {
      this.post({ type: 'message', conversation: message.conversation, message: this.state.render(message) });
      this.postTyping(message.conversation);
    }
    this.postState();
  }

  private onTyping(conversation: string, user: string, name: string): void {
    this.state.noteTyping(conversation, user, name, Date.now());
    this.postTyping(conversation);
    const previous = this.typingTimers.get(conversation);
    if (previous) clearTimeout(previous);
    this.typingTimers.set(
      conversation,
      setTimeout(() => this.postTyping(conversation), TYPING_TIMEOUT_MS + 100),
    );
  }

  private postTyping(conversation: string): void {
    if (this.state.selected !== conversation) return;
    const names = this.state.typingNames(conversation, Date.now());
    const text =
      names.length === 0
        ? ''
        : names.length === 1
          ? vscode.l10n.t('{0} is typing…', names[0] ?? '')
          : vscode.l10n.t('{0} are typing…', names.join(', '));
    this.post({ type: 'typing', conversation, text });
  }

  private async openFile(conversation: string, target: string): Promise<void> {
    for (const candidate of fileCandidates(target, conversation, this.session.status)) {
      try {
        const stat = await fs.stat(candidate);
        if (stat.isFile()) {
          await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(candidate));
          return;
        }
        if (stat.isDirectory()) {
          await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(candidate));
          return;
        }
      } catch {
        // Not here; try the next shared folder.
      }
    }
    throw new UserFacingError(vscode.l10n.t('{0} is not in any of your shared folders.', target));
  }

  private postState(): void {
    const list = conversations(this.session.status, (id) => this.state.unread(id));
    if (this.state.selected === undefined || !list.some((c) => c.id === this.state.selected)) this.state.select(list[0]?.id);
    // Status events come often while files sync; the webview redraws its selector only when the list changed.
    const notice = offlineNotice(this.session.status, vscode.l10n);
    const state: ToWebview = {
      type: 'state',
      conversations: list,
      selected: this.state.selected,
      strings: this.strings(),
      ...(notice !== undefined ? { notice } : {}),
    };
    const key = JSON.stringify(state);
    if (key !== this.lastState) {
      this.post(state);
      if (this.ready) this.lastState = key;
    }
    // The webview clears its messages when the selection changes (or the list emptied and came back): send the history.
    const selected = this.state.selected;
    if (this.ready && selected !== undefined && selected !== this.historyShown) {
      void this.runner.run('chat.history', () => this.showConversation(selected));
    }
    this.updateBadge();
  }

  private updateBadge(): void {
    if (!this.view) return;
    this.view.badge = chatBadge(this.state.totalUnread, vscode.l10n);
  }

  private post(message: ToWebview): void {
    if (this.view && this.ready) void this.view.webview.postMessage(message);
  }

  private strings(): ChatStrings {
    return {
      conversation: vscode.l10n.t('Conversation'),
      placeholder: vscode.l10n.t('Message (Enter to send, Shift+Enter for a new line)'),
      send: vscode.l10n.t('Send'),
      empty: vscode.l10n.t('No messages yet. Say hello!'),
      noConversations: vscode.l10n.t('Add a contact to start chatting.'),
      offlineHint: vscode.l10n.t('offline: messages wait for them on the server'),
      you: vscode.l10n.t('You'),
    };
  }

  private html(webview: vscode.Webview, media: vscode.Uri): string {
    const nonce = crypto.randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      `img-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="${vscode.env.language}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>${escapeHtml(vscode.l10n.t('Chat'))}</title>
</head>
<body>
<main id="chat" aria-live="polite"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    for (const t of this.typingTimers.values()) clearTimeout(t);
    for (const d of this.viewDisposables.splice(0)) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** A contact row, a folder row (a pair folder's chat is the direct one with the other member), or a conversation id. */
function conversationOf(arg: unknown, status: EngineStatus): string | undefined {
  if (typeof arg === 'string') return arg;
  const ref = refOf(arg);
  if (ref?.kind === 'contact' || ref?.kind === 'member') return ref.user;
  if (ref?.kind === 'space') {
    const space = status.spaces.find((s) => s.id === ref.space);
    if (space?.kind === 'pair') return space.members.find((m) => m.user !== status.identity?.user)?.user ?? ref.space;
    return ref.space;
  }
  return undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}
