/**
 * The messages between the chat webview (media/chat.js) and the extension (chat-view.ts). Both
 * sides are type-checked against this file: the extension imports it, the webview script names
 * these types in JSDoc and is checked by tsconfig.webview.json. Type-only: nothing here runs.
 */

export type MessagePart =
  | { readonly kind: 'text'; readonly text: string }
  /** A file in a shared folder, as written in the message: `notes/todo.md`, `design-notes/a.txt` or a file:// link. */
  | { readonly kind: 'file'; readonly text: string; readonly target: string }
  | { readonly kind: 'url'; readonly text: string; readonly href: string };

export interface RenderedMessage {
  readonly id: string;
  readonly fromName: string;
  readonly mine: boolean;
  /** Milliseconds since the epoch; the webview formats it in the user's locale. */
  readonly sent: number;
  readonly parts: readonly MessagePart[];
}

export interface ConversationItem {
  readonly id: string;
  readonly label: string;
  readonly kind: 'direct' | 'group';
  readonly unread: number;
  /** Direct conversations only. */
  readonly presence?: 'online' | 'away' | 'offline';
}

/** Every string the webview shows, localized by the extension (the webview has no `l10n`). */
export interface ChatStrings {
  readonly conversation: string;
  readonly placeholder: string;
  readonly send: string;
  readonly empty: string;
  readonly noConversations: string;
  readonly offlineHint: string;
  readonly you: string;
}

export type ToWebview =
  | {
      readonly type: 'state';
      readonly conversations: readonly ConversationItem[];
      readonly selected: string | undefined;
      readonly strings: ChatStrings;
      /** A line above the conversation: the server cannot be reached, what is shown is what this device has. */
      readonly notice?: string;
    }
  | { readonly type: 'history'; readonly conversation: string; readonly messages: readonly RenderedMessage[] }
  | { readonly type: 'message'; readonly conversation: string; readonly message: RenderedMessage }
  /** `text` is empty when nobody is typing any more. */
  | { readonly type: 'typing'; readonly conversation: string; readonly text: string }
  | { readonly type: 'sendFailed'; readonly conversation: string; readonly text: string };

export type FromWebview =
  | { readonly type: 'ready' }
  | { readonly type: 'select'; readonly conversation: string }
  | { readonly type: 'send'; readonly conversation: string; readonly text: string }
  | { readonly type: 'typing'; readonly conversation: string }
  | { readonly type: 'openFile'; readonly conversation: string; readonly target: string }
  | { readonly type: 'openUrl'; readonly href: string };
