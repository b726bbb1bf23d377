// @ts-check
// The chat webview. Type-checked against src/vscode/chat/chat-messages.ts by tsconfig.webview.json.
// It renders what the extension sends and reports what the user does; all logic stays in the extension.

/** @typedef {import('../src/vscode/chat/chat-messages').ToWebview} ToWebview */
/** @typedef {import('../src/vscode/chat/chat-messages').FromWebview} FromWebview */
/** @typedef {import('../src/vscode/chat/chat-messages').RenderedMessage} RenderedMessage */
/** @typedef {import('../src/vscode/chat/chat-messages').ConversationItem} ConversationItem */
/** @typedef {import('../src/vscode/chat/chat-messages').ChatStrings} ChatStrings */

(function () {
  // @ts-ignore acquireVsCodeApi is injected by VS Code into webviews.
  const vscode = /** @type {{ postMessage(m: FromWebview): void, getState(): any, setState(s: any): void }} */ (acquireVsCodeApi());

  const root = /** @type {HTMLElement} */ (document.getElementById('chat'));
  /** @type {ChatStrings | undefined} */
  let strings;
  /** @type {string | undefined} */
  let selected;
  /** @type {readonly ConversationItem[]} */
  let conversations = [];

  const notice = el('div', 'notice');
  notice.setAttribute('role', 'status');
  notice.hidden = true;
  const header = el('div', 'header');
  const selectLabel = /** @type {HTMLLabelElement} */ (el('label', 'select-label'));
  selectLabel.htmlFor = 'conversation';
  const select = /** @type {HTMLSelectElement} */ (el('select', 'conversation'));
  select.id = 'conversation';
  header.append(selectLabel, select);

  const list = el('ol', 'messages');
  list.setAttribute('role', 'log');
  const empty = el('div', 'empty');
  const typing = el('div', 'typing');
  typing.setAttribute('aria-live', 'polite');

  const form = /** @type {HTMLFormElement} */ (el('form', 'composer'));
  const input = /** @type {HTMLTextAreaElement} */ (el('textarea', 'input'));
  input.rows = 2;
  const send = /** @type {HTMLButtonElement} */ (el('button', 'send'));
  send.type = 'submit';
  form.append(input, send);
  root.append(notice, header, list, empty, typing, form);

  select.addEventListener('change', () => {
    selected = select.value;
    vscode.setState({ selected });
    clearMessages();
    vscode.postMessage({ type: 'select', conversation: selected });
  });

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener('input', () => {
    if (selected && input.value.trim() !== '') vscode.postMessage({ type: 'typing', conversation: selected });
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    if (!selected || text.trim() === '') return;
    vscode.postMessage({ type: 'send', conversation: selected, text });
    input.value = '';
  });

  window.addEventListener('message', (event) => {
    const message = /** @type {ToWebview} */ (event.data);
    switch (message.type) {
      case 'state':
        notice.textContent = message.notice ?? '';
        notice.hidden = notice.textContent === '';
        return onState(message.conversations, message.selected, message.strings);
      case 'history':
        if (message.conversation !== selected) return;
        clearMessages();
        for (const m of message.messages) appendMessage(m);
        updateEmpty();
        return;
      case 'message':
        if (message.conversation !== selected) return;
        appendMessage(message.message);
        updateEmpty();
        return;
      case 'typing':
        if (message.conversation === selected) typing.textContent = message.text;
        return;
      case 'sendFailed':
        if (message.conversation === selected && input.value === '') input.value = message.text;
        return;
    }
  });

  /**
   * @param {readonly ConversationItem[]} items
   * @param {string | undefined} chosen
   * @param {ChatStrings} texts
   */
  function onState(items, chosen, texts) {
    strings = texts;
    conversations = items;
    selectLabel.textContent = texts.conversation;
    input.placeholder = texts.placeholder;
    input.setAttribute('aria-label', texts.placeholder);
    send.textContent = texts.send;
    const remembered = vscode.getState()?.selected;
    const next = chosen ?? (items.some((c) => c.id === remembered) ? remembered : items[0]?.id);
    select.replaceChildren(
      ...items.map((c) => {
        const option = /** @type {HTMLOptionElement} */ (el('option'));
        option.value = c.id;
        const unread = c.unread > 0 ? ` (${c.unread})` : '';
        const presence = c.kind === 'direct' && c.presence === 'offline' ? ` · ${texts.offlineHint}` : '';
        option.textContent = `${c.kind === 'group' ? '# ' : ''}${c.label}${unread}${presence}`;
        return option;
      }),
    );
    const disabled = items.length === 0;
    select.disabled = disabled;
    input.disabled = disabled;
    send.disabled = disabled;
    if (next !== selected) {
      selected = next;
      clearMessages();
    }
    if (selected) select.value = selected;
    updateEmpty();
  }

  /** @param {RenderedMessage} m */
  function appendMessage(m) {
    if (list.querySelector(`[data-id="${CSS.escape(m.id)}"]`)) return;
    const item = el('li', m.mine ? 'message mine' : 'message');
    item.dataset['id'] = m.id;
    const meta = el('div', 'meta');
    const who = el('span', 'from');
    who.textContent = m.mine && strings ? strings.you : m.fromName;
    const when = /** @type {HTMLTimeElement} */ (el('time', 'sent'));
    when.dateTime = new Date(m.sent).toISOString();
    when.textContent = new Date(m.sent).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    meta.append(who, when);
    const body = el('div', 'body');
    for (const part of m.parts) {
      if (part.kind === 'text') {
        body.append(document.createTextNode(part.text));
      } else {
        const link = /** @type {HTMLAnchorElement} */ (el('a', part.kind === 'file' ? 'file-link' : 'url-link'));
        link.href = '#';
        link.textContent = part.text;
        link.title = part.kind === 'file' ? part.target : part.href;
        link.addEventListener('click', (e) => {
          e.preventDefault();
          if (!selected) return;
          if (part.kind === 'file') vscode.postMessage({ type: 'openFile', conversation: selected, target: part.target });
          else vscode.postMessage({ type: 'openUrl', href: part.href });
        });
        body.append(link);
      }
    }
    item.append(meta, body);
    list.append(item);
    item.scrollIntoView({ block: 'end' });
  }

  function clearMessages() {
    list.replaceChildren();
    typing.textContent = '';
  }

  function updateEmpty() {
    if (!strings) return;
    const none = conversations.length === 0;
    empty.textContent = none ? strings.noConversations : list.childElementCount === 0 ? strings.empty : '';
    empty.hidden = empty.textContent === '';
  }

  /**
   * @param {string} tag
   * @param {string} [className]
   * @returns {HTMLElement}
   */
  function el(tag, className) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    return e;
  }

  vscode.postMessage({ type: 'ready' });
})();
