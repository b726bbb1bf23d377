import type { FrameLocator, Locator, Page } from 'playwright-core';
import { sleep, waitFor } from './processes';

/** What the harness needs of its world: where screenshots go. */
export interface ShotSink {
  nextShot(step: string): string;
}

export interface TreeRow {
  /** The item's label as shown. */
  readonly label: string;
  /** The grey text after the label, '' when there is none. */
  readonly description: string;
  /** The row's accessible name: label, description and any status VS Code reads out. */
  readonly ariaLabel: string;
  readonly level: number;
}

/** Bounds for waits in the UI; generous, as the machine is shared. */
const UI_TIMEOUT = 30_000;

/**
 * One VS Code window in a browser page, driven as a person would: the palette, quick inputs,
 * tree views, notifications, editors and webviews, with a screenshot of each step.
 */
export class Workbench {
  /** The page's console errors and warnings, newest last, for the report of a failed step. */
  readonly consoleProblems: string[] = [];

  constructor(
    readonly page: Page,
    private readonly shots: ShotSink,
    readonly user: string,
  ) {
    page.setDefaultTimeout(UI_TIMEOUT);
    page.on('console', (m) => {
      if (m.type() !== 'error' && m.type() !== 'warning') return;
      this.consoleProblems.push(`${m.type()}: ${m.text().slice(0, 500)}`);
      if (this.consoleProblems.length > 50) this.consoleProblems.shift();
    });
  }

  async load(url: string): Promise<void> {
    await this.page.goto(url, { timeout: 60_000 });
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The activity bar and the status bar are the last parts of the layout to appear.
    await this.page.locator('.part.activitybar').waitFor({ state: 'visible', timeout: 60_000 });
    await this.page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
  }

  /** Saves a screenshot of the page as test-artifacts/e2e/<test>/<nn>-<user>-<step>.png. */
  async shot(step: string): Promise<string> {
    const path = this.shots.nextShot(`${this.user}-${step}`);
    await this.page.screenshot({ path, timeout: 30_000 }).catch(() => undefined);
    return path;
  }

  // ---- activity bar and views ----

  /** The activity bar item with this title (its accessible name starts with it). */
  activityItem(title: string): Locator {
    return this.page.locator(`.part.activitybar .action-item a.action-label[aria-label^="${cssString(title)}"]`).first();
  }

  /** Opens the view container behind an activity bar item, unless it is already showing. */
  async openContainer(title: string): Promise<void> {
    const item = this.activityItem(title);
    await item.waitFor({ state: 'visible' });
    const li = item.locator('xpath=..');
    const checked = (await li.getAttribute('aria-selected')) === 'true' || (await li.getAttribute('class'))?.split(' ').includes('checked');
    // A badge drawn over the icon takes the click otherwise.
    if (!checked) await item.click({ force: true });
    await waitFor(
      `the "${title}" container to show`,
      async () => (await this.sidebarTitle()).toLowerCase().includes(title.toLowerCase()),
      UI_TIMEOUT,
    );
  }

  /** The title of the side bar's container. */
  async sidebarTitle(): Promise<string> {
    const title = this.page.locator('.part.sidebar .composite.title .title-label');
    if ((await title.count()) === 0) return '';
    return ((await title.first().textContent()) ?? '').trim();
  }

  /** The view pane whose header reads `name`, in the side bar or the panel. */
  pane(name: string): Locator {
    return this.page
      .locator('.pane')
      .filter({ has: this.page.locator('.pane-header h3.title', { hasText: new RegExp(`^\\s*${escapeRegExp(name)}\\s*$`, 'i') }) })
      .first();
  }

  /** The names of the view panes in the side bar. */
  async paneNames(): Promise<string[]> {
    const titles = await this.page.locator('.part.sidebar .pane-header h3.title').allTextContents();
    return titles.map((t) => t.trim());
  }

  /** Expands a collapsed view pane. */
  async expandView(name: string): Promise<Locator> {
    const pane = this.pane(name);
    await pane.waitFor({ state: 'visible' });
    const header = pane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    await waitFor(`the "${name}" view to expand`, async () => (await header.getAttribute('aria-expanded')) === 'true', UI_TIMEOUT);
    return pane;
  }

  /** The rows a tree view shows now (expanding the view first). */
  async treeRows(view: string): Promise<TreeRow[]> {
    const pane = await this.expandView(view);
    const rows = pane.locator('.pane-body .monaco-list-row');
    const count = await rows.count();
    const out: TreeRow[] = [];
    for (let i = 0; i < count; i++) {
      const row = rows.nth(i);
      const label = (
        (await row
          .locator('.label-name')
          .first()
          .textContent()
          .catch(() => '')) ?? ''
      ).trim();
      const descriptionLocator = row.locator('.label-description');
      const description = (await descriptionLocator.count()) > 0 ? ((await descriptionLocator.first().textContent()) ?? '').trim() : '';
      const ariaLabel = (await row.getAttribute('aria-label')) ?? '';
      const level = Number((await row.getAttribute('aria-level')) ?? '1');
      out.push({ label, description, ariaLabel, level });
    }
    return out;
  }

  /** Waits until a row of `view` satisfies `match`; returns it. */
  async waitForRow(view: string, match: (row: TreeRow) => boolean, what: string, timeoutMs = UI_TIMEOUT): Promise<TreeRow> {
    let seen: TreeRow[] = [];
    try {
      return await waitFor(
        `${what} in the "${view}" view of ${this.user}`,
        async () => {
          seen = await this.treeRows(view);
          return seen.find(match);
        },
        timeoutMs,
        500,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; rows: ${JSON.stringify(seen.map((r) => r.ariaLabel || r.label))}`, { cause: err });
    }
  }

  /** The welcome content a view shows while it has no rows ('' when it shows none). */
  async welcomeText(view: string): Promise<string> {
    const pane = await this.expandView(view);
    const welcome = pane.locator('.welcome-view-content');
    if ((await welcome.count()) === 0 || !(await welcome.first().isVisible())) return '';
    return ((await welcome.first().innerText()) ?? '').trim();
  }

  /** Clicks a button of a view's welcome content, by its label. */
  async clickWelcomeButton(view: string, label: string): Promise<void> {
    const pane = await this.expandView(view);
    await pane
      .locator('.welcome-view-content .monaco-button', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) })
      .first()
      .click();
  }

  /** The row of `view` whose label is `label`. */
  treeItem(view: string, label: string): Locator {
    return this.pane(view)
      .locator('.pane-body .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) }) })
      .first();
  }

  async clickTreeItem(view: string, label: string): Promise<void> {
    await this.expandView(view);
    await this.treeItem(view, label).click();
  }

  /** Clicks an inline action (the icons shown on hover) of a tree item, by its title. */
  async clickInlineAction(view: string, label: string, action: string): Promise<void> {
    await this.expandView(view);
    const row = this.treeItem(view, label);
    await row.hover();
    const button = row.locator(`.actions .action-label[aria-label^="${cssString(action)}"]`).first();
    await button.waitFor({ state: 'visible' });
    await button.click();
  }

  /** Clicks an action in a view's title bar (shown when the pointer is over the view), by its title. */
  async clickViewAction(view: string, action: string): Promise<void> {
    const pane = await this.expandView(view);
    await pane.locator('.pane-header').hover();
    const button = pane.locator(`.pane-header .actions .action-label[aria-label^="${cssString(action)}"]`).first();
    await button.waitFor({ state: 'visible' });
    await button.click();
  }

  // ---- command palette and quick input ----

  quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Opens the palette with F1 and runs the command whose title is `title` (as the palette lists it). */
  async runCommand(title: string): Promise<void> {
    await this.closeQuickInput();
    await this.page
      .locator('.monaco-workbench')
      .focus()
      .catch(() => undefined);
    await this.page.keyboard.press('F1');
    const input = this.quickInput().locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    // Wait for the exact command in the list, so Enter does not run a near match.
    const row = this.quickInputRow(title, true);
    try {
      await row.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    } catch {
      const labels = await this.quickInputLabels();
      throw new Error(`the palette of ${this.user} lists no command "${title}"; it shows: ${JSON.stringify(labels)}`);
    }
    await row.click();
    // The palette gives way to the command's own quick input, if any: wait for it to go, so a
    // following wait for an InputBox or QuickPick does not see the palette.
    await waitFor(
      `the palette of ${this.user} to close after "${title}"`,
      async () => !(await this.quickInput().isVisible()) || !((await input.inputValue().catch(() => '')) ?? '').startsWith('>'),
      UI_TIMEOUT,
      100,
    );
  }

  /** A row of the open quick input by its label (exactly, or as a prefix). */
  private quickInputRow(label: string, exact: boolean): Locator {
    const pattern = exact ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : new RegExp(`^\\s*${escapeRegExp(label)}`);
    return this.quickInput()
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: pattern }) })
      .first();
  }

  /** Waits for a quick input (InputBox or QuickPick) whose title or prompt contains `text`, if given. */
  async waitForQuickInput(text?: string, timeoutMs = UI_TIMEOUT): Promise<void> {
    const widget = this.quickInput();
    await widget.waitFor({ state: 'visible', timeout: timeoutMs });
    if (text) {
      await waitFor(
        `a quick input mentioning "${text}" on ${this.user}`,
        async () => {
          const all =
            ((await widget.textContent()) ?? '') +
            ' ' +
            ((await widget.locator('.quick-input-box input').getAttribute('placeholder')) ?? '');
          return all.toLowerCase().includes(text.toLowerCase());
        },
        timeoutMs,
      );
    }
  }

  /** Types `text` into the open InputBox (replacing what is there) and presses Enter. */
  async inputText(text: string, prompt?: string): Promise<void> {
    await this.waitForQuickInput(prompt);
    const input = this.quickInput().locator('.quick-input-box input');
    await input.fill(text);
    await sleep(200); // validation runs on change
    await input.press('Enter');
  }

  /** The labels the open QuickPick lists. */
  async quickInputLabels(): Promise<string[]> {
    const labels = await this.quickInput().locator('.quick-input-list .monaco-list-row .label-name').allTextContents();
    return labels.map((l) => l.trim());
  }

  /** Picks the item labelled `label` (or starting with it) in the open QuickPick. */
  async pick(label: string, options: { exact?: boolean; prompt?: string } = {}): Promise<void> {
    await this.waitForQuickInput(options.prompt);
    const row = this.quickInputRow(label, options.exact ?? false);
    try {
      await row.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    } catch {
      throw new Error(`the quick pick of ${this.user} has no "${label}"; it shows: ${JSON.stringify(await this.quickInputLabels())}`);
    }
    await row.click();
  }

  /** Picks the first item whose label matches `pattern` in the open QuickPick; returns its label. */
  async pickMatching(pattern: RegExp, options: { prompt?: string } = {}): Promise<string> {
    await this.waitForQuickInput(options.prompt);
    const label = await waitFor(
      `an item matching ${pattern} in the quick pick of ${this.user}`,
      async () => (await this.quickInputLabels()).find((l) => pattern.test(l)),
      UI_TIMEOUT,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; it shows: ${JSON.stringify(await this.quickInputLabels())}`);
    });
    await this.quickInputRow(label, true).click();
    return label;
  }

  /** Whether a quick input opens within `timeoutMs` (for a step VS Code skips when there is one choice). */
  async quickInputOpens(timeoutMs: number): Promise<boolean> {
    return this.quickInput()
      .waitFor({ state: 'visible', timeout: timeoutMs })
      .then(() => true)
      .catch(() => false);
  }

  /** The title and prompt of the open quick input. */
  async quickInputPrompt(): Promise<string> {
    const widget = this.quickInput();
    const title =
      (await widget
        .locator('.quick-input-title')
        .textContent()
        .catch(() => '')) ?? '';
    const message =
      (await widget
        .locator('.quick-input-message')
        .textContent()
        .catch(() => '')) ?? '';
    const placeholder =
      (await widget
        .locator('.quick-input-box input')
        .getAttribute('placeholder')
        .catch(() => '')) ?? '';
    return [title, placeholder, message]
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .join(' | ');
  }

  /** Checks the items labelled `labels` in the open multi-select QuickPick and accepts with OK. */
  async pickMany(labels: readonly string[], options: { prompt?: string } = {}): Promise<void> {
    await this.waitForQuickInput(options.prompt);
    for (const label of labels) {
      const row = this.quickInputRow(label, false);
      try {
        await row.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      } catch {
        throw new Error(`the quick pick of ${this.user} has no "${label}"; it shows: ${JSON.stringify(await this.quickInputLabels())}`);
      }
      const box = row.locator('.monaco-checkbox').first();
      if ((await box.getAttribute('aria-checked')) !== 'true') await box.click();
      await waitFor(`"${label}" to be checked`, async () => (await box.getAttribute('aria-checked')) === 'true', 5_000);
    }
    const ok = this.quickInput()
      .locator('.quick-input-action .monaco-button, .quick-input-header .monaco-button')
      .filter({ hasText: /^\s*OK\s*$/ });
    if ((await ok.count()) > 0) await ok.first().click();
    else await this.quickInput().locator('.quick-input-box input').press('Enter');
  }

  async closeQuickInput(): Promise<void> {
    if (await this.quickInput().isVisible()) {
      await this.page.keyboard.press('Escape');
      await this.quickInput()
        .waitFor({ state: 'hidden', timeout: 5_000 })
        .catch(() => undefined);
    }
  }

  // ---- notifications ----

  /** The texts of the notifications now shown as toasts and in the notification centre. */
  async notifications(): Promise<string[]> {
    const texts = await this.page
      .locator('.notifications-toasts .notification-list-item-message, .notifications-center .notification-list-item-message')
      .allTextContents();
    return [...new Set(texts.map((t) => t.trim()))];
  }

  /** Waits for a notification whose text matches `pattern`; returns its text. */
  async waitForNotification(pattern: RegExp, timeoutMs = UI_TIMEOUT): Promise<string> {
    let seen: string[] = [];
    try {
      return await waitFor(
        `a notification matching ${pattern} on ${this.user}`,
        async () => {
          seen = await this.notifications();
          return seen.find((t) => pattern.test(t));
        },
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; notifications: ${JSON.stringify(seen)}`, { cause: err });
    }
  }

  /** Clicks a button of the notification whose text matches `pattern`. */
  async clickNotificationButton(pattern: RegExp, button: string): Promise<void> {
    const toast = this.page
      .locator('.notification-list-item')
      .filter({ has: this.page.locator('.notification-list-item-message', { hasText: pattern }) })
      .first();
    await toast.waitFor({ state: 'visible' });
    await toast
      .locator('.monaco-button', { hasText: new RegExp(`^\\s*${escapeRegExp(button)}\\s*$`) })
      .first()
      .click();
  }

  /** Clicks a button of the modal dialog VS Code shows (a modal message), by its label. */
  async clickDialogButton(label: string): Promise<void> {
    const dialog = this.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible' });
    await dialog
      .locator('.dialog-buttons .monaco-button', { hasText: new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) })
      .first()
      .click();
    await dialog.waitFor({ state: 'hidden' });
  }

  /** Closes every toast, so later waits see only new ones. */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications').catch(() => undefined);
  }

  // ---- editors ----

  /** Opens a file of the workspace through Quick Open (Ctrl+P), by its path relative to the workspace. */
  async openFile(relativePath: string): Promise<void> {
    await this.closeQuickInput();
    await this.page.keyboard.press('Control+P');
    const input = this.quickInput().locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relativePath);
    const base = relativePath.split('/').pop() ?? relativePath;
    const row = this.quickInputRow(base, true);
    await row.waitFor({ state: 'visible' });
    await row.click();
    await this.activeEditorTab(base);
  }

  /** Waits until the active editor tab reads `title`. */
  async activeEditorTab(title: string, timeoutMs = UI_TIMEOUT): Promise<void> {
    await waitFor(
      `the editor "${title}" to be active on ${this.user}`,
      async () => {
        const active = this.page.locator('.editor-group-container.active .tab.active .label-name');
        if ((await active.count()) === 0) return false;
        return ((await active.first().textContent()) ?? '').includes(title);
      },
      timeoutMs,
    );
  }

  /** The titles of the open editor tabs. */
  async editorTabs(): Promise<string[]> {
    return (await this.page.locator('.tabs-container .tab .label-name').allTextContents()).map((t) => t.trim());
  }

  /** The text of the active text editor (or, in a diff editor, of side `side`), as its lines show it. */
  async editorText(side: 'modified' | 'original' = 'modified'): Promise<string> {
    const group = this.page.locator('.editor-group-container.active');
    const diff = group.locator('.monaco-diff-editor');
    const editor =
      (await diff.count()) > 0
        ? diff
            .locator(
              side === 'modified' ? '.monaco-editor.modified-in-monaco-diff-editor' : '.monaco-editor.original-in-monaco-diff-editor',
            )
            .first()
        : group.locator('.monaco-editor').first();
    const lines = editor.locator('.view-lines .view-line');
    const tops = await lines.evaluateAll((els) =>
      els.map((el) => ({
        top: parseFloat((el as unknown as { style: { top: string } }).style.top || '0'),
        text: (el.textContent ?? '').replace(/\u00a0/g, ' '),
      })),
    );
    tops.sort((a, b) => a.top - b.top);
    return tops.map((l) => l.text).join('\n');
  }

  /** Waits until the active editor's text satisfies `match`. */
  async waitForEditorText(match: (text: string) => boolean, what: string, timeoutMs = UI_TIMEOUT): Promise<string> {
    let last = '';
    try {
      return await waitFor(
        `${what} in the editor of ${this.user}`,
        async () => {
          last = await this.editorText();
          return match(last) ? last : undefined;
        },
        timeoutMs,
        500,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; it reads: ${JSON.stringify(last)}`, { cause: err });
    }
  }

  /** Types into the active editor at the end of its text (or at its start, `at: 'start'`). */
  async typeInEditor(text: string, options: { replaceAll?: boolean; at?: 'start' | 'end'; delay?: number } = {}): Promise<void> {
    const editor = this.page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.locator('.view-lines').click();
    if (options.replaceAll) {
      await this.page.keyboard.press('Control+A');
      await this.page.keyboard.press('Delete');
    } else {
      await this.page.keyboard.press(options.at === 'start' ? 'Control+Home' : 'Control+End');
    }
    await this.page.keyboard.type(text, { delay: options.delay ?? 5 });
  }

  /**
   * The texts editor decorations show through CSS (an extension's `before` / `after` content, such
   * as a name next to a cursor) in the active editor: they are in no element's text, only in styles.
   */
  async decorationTexts(): Promise<string[]> {
    const editor = this.page.locator('.editor-group-container.active .monaco-editor').first();
    return editor.locator('.view-lines span').evaluateAll((els) => {
      const out: string[] = [];
      const view = globalThis as unknown as { getComputedStyle?(el: unknown, pseudo: string): { content: string } };
      for (const el of els) {
        for (const pseudo of ['::before', '::after']) {
          const content = view.getComputedStyle?.(el, pseudo).content ?? 'none';
          if (content !== 'none' && content !== 'normal' && content !== '""') out.push(content.replace(/^"|"$/g, ''));
        }
      }
      return out;
    });
  }

  async save(): Promise<void> {
    await this.page.keyboard.press('Control+S');
    await waitFor(
      `the active editor of ${this.user} to be saved`,
      async () => (await this.page.locator('.editor-group-container.active .tab.active.dirty').count()) === 0,
      UI_TIMEOUT,
    );
  }

  /** Clicks an action in the active editor's title bar (the diff editor's Keep Mine, for one), by its title. */
  async clickEditorAction(action: string): Promise<void> {
    const button = this.page
      .locator(`.editor-group-container.active .editor-actions .action-label[aria-label^="${cssString(action)}"]`)
      .first();
    await button.waitFor({ state: 'visible' });
    await button.click();
  }

  // ---- explorer ----

  /** The labels of the Explorer's rows: the workspace folders and whatever is expanded. */
  async explorerRows(): Promise<string[]> {
    return (await this.page.locator('.explorer-folders-view .monaco-list-row .label-name').allTextContents()).map((t) => t.trim());
  }

  // ---- webviews ----

  /**
   * The content of this extension's webview view, inside VS Code's two iframes. Focus the view
   * first (e.g. with its "Focus on … View" command) so VS Code creates it.
   */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready[src*="extensionId=shared-folders.shared-folders"]').frameLocator('#active-frame');
  }

  /** Focuses a view by its name through the palette's "Focus on <name> View" command. */
  async focusView(name: string): Promise<void> {
    await this.runCommand(`Shared Folders: Focus on ${name} View`);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function cssString(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
