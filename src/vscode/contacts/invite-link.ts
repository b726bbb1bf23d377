/** Invite codes as people pass them around: bare, in a `vscode://` link, or inside a pasted sentence. */

const EXTENSION_ID = 'shared-folders.shared-folders';
const CODE = /sf-invite-[A-Za-z0-9_-]+/;

export function inviteLink(code: string, uriScheme = 'vscode'): string {
  return `${uriScheme}://${EXTENSION_ID}/invite?code=${encodeURIComponent(code)}`;
}

/** The invite code in what the user pasted, or undefined when there is none. */
export function parseInviteInput(input: string): string | undefined {
  const text = input.trim();
  if (text === '') return undefined;
  const query = /[?&]code=([^&\s]+)/.exec(text);
  if (query?.[1]) {
    try {
      return decodeURIComponent(query[1]);
    } catch {
      return undefined;
    }
  }
  const match = CODE.exec(text);
  if (match) return match[0];
  // Another kind of code (a future format): one token without spaces, passed on as is.
  return /^\S+$/.test(text) ? text : undefined;
}

/** The code in a `/invite?code=` URI the UriHandler receives (path and query as `vscode.Uri` splits them). */
export function inviteFromUri(path: string, query: string): string | undefined {
  if (path.replace(/\/+$/, '') !== '/invite') return undefined;
  const params = new URLSearchParams(query);
  const code = params.get('code');
  return code ? code.trim() : undefined;
}
