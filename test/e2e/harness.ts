import { execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserServer } from 'playwright-core';
import { freePort, Processes, waitFor } from './processes';
import { Workbench } from './workbench';

/** The repository root (this file runs from out/test/e2e). */
export const ROOT = nodePath.resolve(__dirname, '../../..');
const CLI = nodePath.join(ROOT, 'out/src/cli/main.js');
const CODE_SERVER_VERSION = '4.100.3';
const CACHE = process.env['E2E_CACHE'] ?? nodePath.join(ROOT, '.e2e-cache');
const CODE_SERVER = nodePath.join(CACHE, `code-server-${CODE_SERVER_VERSION}`, 'node_modules/code-server/out/node/entry.js');
const CHROMIUM = process.env['E2E_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** The window size of every browser page and so of every screenshot. */
export const VIEWPORT = { width: 1280, height: 800 };

/** The vsix `npm run package` built from package.json's name and version (E2E_VSIX overrides it). */
export function vsixPath(): string {
  if (process.env['E2E_VSIX']) return nodePath.resolve(process.env['E2E_VSIX']);
  const pkg = JSON.parse(fs.readFileSync(nodePath.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  return nodePath.join(ROOT, `${pkg.name}-${pkg.version}.vsix`);
}

export interface UserOptions {
  /** Extra user settings, merged over the defaults the harness writes. */
  readonly settings?: Record<string, unknown>;
}

/** One simulated person: a code-server with its own profile, extensions, home folder and browser context. */
export class User {
  readonly dir: string;
  readonly home: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  port = 0;
  private process: ChildProcess | undefined;
  private context: BrowserContext | undefined;
  workbench: Workbench | undefined;
  /** The address of the window when it was last closed: a folder or a workspace. */
  private lastUrl: string | undefined;

  constructor(
    private readonly world: World,
    readonly name: string,
  ) {
    this.dir = nodePath.join(world.dir, name);
    this.home = nodePath.join(this.dir, 'home');
    this.userDataDir = nodePath.join(this.dir, 'user-data');
    this.extensionsDir = nodePath.join(this.dir, 'extensions');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process !== undefined && this.world.processes.isRunning(this.process);
  }

  /** A folder in this user's home, created if missing. */
  folder(relative: string): string {
    const path = nodePath.join(this.home, relative);
    fs.mkdirSync(path, { recursive: true });
    return path;
  }

  /** Writes settings.json and installs the vsix into this user's extensions folder. */
  async prepare(options: UserOptions = {}): Promise<void> {
    for (const d of [this.home, this.userDataDir, this.extensionsDir]) fs.mkdirSync(d, { recursive: true });
    const settings = {
      'security.workspace.trust.enabled': false,
      'sharedFolders.server': this.world.serverUrl,
      // Direct links over loopback only: no test listens at a real interface or broadcasts on a LAN.
      'sharedFolders.listenAddress': '127.0.0.1:0',
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'workbench.editor.enablePreview': false,
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'git.enabled': false,
      'files.autoSave': 'off',
      'editor.autoClosingBrackets': 'never',
      'editor.autoClosingQuotes': 'never',
      'editor.autoIndent': 'none',
      'editor.formatOnType': false,
      'editor.acceptSuggestionOnEnter': 'off',
      'editor.quickSuggestions': { other: false, comments: false, strings: false },
      'editor.suggestOnTriggerCharacters': false,
      'editor.wordBasedSuggestions': 'off',
      'chat.commandCenter.enabled': false,
      // code-server offers to forward any port that opens on the machine (other tests' servers).
      'remote.autoForwardPorts': false,
      'window.commandCenter': false,
      ...options.settings,
    };
    const userDir = nodePath.join(this.userDataDir, 'User');
    fs.mkdirSync(userDir, { recursive: true });
    fs.writeFileSync(nodePath.join(userDir, 'settings.json'), JSON.stringify(settings, null, 2));
    const args = [
      CODE_SERVER,
      '--extensions-dir',
      this.extensionsDir,
      '--user-data-dir',
      this.userDataDir,
      '--install-extension',
      vsixPath(),
      '--force',
    ];
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, args, { env: this.env(), timeout: 120_000 }, (err, stdout, stderr) => {
        fs.appendFileSync(this.logFile, `--- install-extension\n${stdout}${stderr}`);
        if (err) reject(new Error(`installing the vsix for ${this.name} failed: ${stderr || err.message}`));
        else resolve();
      });
    });
  }

  get logFile(): string {
    return nodePath.join(this.world.artifacts, `${this.name}-code-server.log`);
  }

  private env(): NodeJS.ProcessEnv {
    // Each user has its own home, so defaults under ~ (the extension's, code-server's) never mix.
    return {
      ...process.env,
      HOME: this.home,
      XDG_CONFIG_HOME: nodePath.join(this.home, '.config'),
      XDG_DATA_HOME: nodePath.join(this.home, '.local/share'),
      XDG_CACHE_HOME: nodePath.join(this.home, '.cache'),
    };
  }

  /** Starts code-server (on the same port as before, after a restart) and waits until it answers. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name}'s code-server is already running`);
    if (this.port === 0) this.port = await freePort();
    const args = [
      CODE_SERVER,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${this.port}`,
      '--extensions-dir',
      this.extensionsDir,
      '--user-data-dir',
      this.userDataDir,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
    ];
    this.process = this.world.processes.start(`${this.name}'s code-server`, process.execPath, args, {
      env: this.env(),
      logFile: this.logFile,
      cwd: this.home,
    });
    await waitFor(
      `${this.name}'s code-server to answer on ${this.url}`,
      async () => (await httpStatus(`${this.url}/healthz`)) === 200,
      60_000,
      300,
    );
  }

  /** Stops code-server by its PID: the user's window and extension host are gone. */
  async stop(): Promise<void> {
    if (this.workbench) {
      this.lastUrl = this.workbench.page.url();
      await this.workbench.page.close().catch(() => undefined);
      this.workbench = undefined;
    }
    if (this.process) await this.world.processes.stop(this.process);
    this.process = undefined;
  }

  /**
   * Opens the workbench on `folder` (or a `.code-workspace` file) in this user's browser context. The context is kept across
   * code-server restarts, as a person's browser keeps its storage when a window is reopened.
   */
  async open(folder?: string): Promise<Workbench> {
    if (!this.running) await this.start();
    if (!this.context) {
      this.context = await this.world.browser().newContext({ viewport: VIEWPORT, permissions: ['clipboard-read', 'clipboard-write'] });
      this.context.setDefaultTimeout(30_000);
    }
    if (this.workbench) await this.workbench.page.close().catch(() => undefined);
    const page = await this.context.newPage();
    this.workbench = new Workbench(page, this.world, this.name);
    const param = folder?.endsWith('.code-workspace') ? 'workspace' : 'folder';
    const url = folder ? `${this.url}/?${param}=${encodeURIComponent(folder)}` : `${this.url}/`;
    await this.workbench.load(url);
    return this.workbench;
  }

  /** Opens the window that was open when code-server was stopped (its folder or workspace). */
  async reopen(): Promise<Workbench> {
    if (!this.lastUrl) throw new Error(`${this.name} had no window open`);
    const url = new URL(this.lastUrl);
    const folder = url.searchParams.get('folder');
    const workspace = url.searchParams.get('workspace');
    if (!this.running) await this.start();
    if (!this.context) throw new Error(`${this.name} has no browser context`);
    const page = await this.context.newPage();
    this.workbench = new Workbench(page, this.world, this.name);
    const query = workspace ? `?workspace=${encodeURIComponent(workspace)}` : folder ? `?folder=${encodeURIComponent(folder)}` : '';
    await this.workbench.load(`${this.url}/${query}`);
    return this.workbench;
  }

  /** Copies the logs code-server kept (extension host, windows) into the artifacts folder. */
  collectLogs(): void {
    const logs = nodePath.join(this.userDataDir, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, nodePath.join(this.world.artifacts, `${this.name}-logs`), { recursive: true });
  }

  /**
   * What to print when a step fails: the end of the extension's log of each window this
   * code-server ran, and the page's console problems (CI keeps no artifacts).
   */
  diagnosis(): string {
    const out: string[] = [];
    const logs = nodePath.join(this.userDataDir, 'logs');
    const sessions = fs.existsSync(logs) ? fs.readdirSync(logs).sort() : [];
    for (const session of sessions) {
      const dir = nodePath.join(logs, session);
      for (const file of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('Shared Folders.log')) continue;
        const lines = fs
          .readFileSync(nodePath.join(dir, file), 'utf8')
          .split('\n')
          .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
        out.push(`--- ${this.name}: ${session}/${file} (last 40 lines)`, ...lines.slice(-40));
      }
    }
    const problems = this.workbench?.consoleProblems ?? [];
    if (problems.length > 0) out.push(`--- ${this.name}: browser console (last ${Math.min(problems.length, 20)})`, ...problems.slice(-20));
    return out.join('\n');
  }

  async closeContext(): Promise<void> {
    await this.context?.close().catch(() => undefined);
    this.context = undefined;
  }
}

/**
 * A test's world: a temporary folder, the rendezvous server, the users' code-servers and one
 * headless Chromium. `close()` stops every process it started, by PID, whatever happened.
 */
export class World {
  readonly processes = new Processes();
  readonly dir: string;
  readonly artifacts: string;
  readonly users = new Map<string, User>();
  serverPort = 0;
  private server: ChildProcess | undefined;
  private browserServer: BrowserServer | undefined;
  private connected: Browser | undefined;
  private shots = 0;

  constructor(readonly testName: string) {
    this.dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), `sf-e2e-${testName}-`));
    this.artifacts = nodePath.join(ROOT, 'test-artifacts/e2e', testName);
    fs.rmSync(this.artifacts, { recursive: true, force: true });
    fs.mkdirSync(this.artifacts, { recursive: true });
    // An interrupted run leaves no temporary folder behind either (close() removes it otherwise).
    process.once('exit', () => {
      if (!process.env['E2E_KEEP']) fs.rmSync(this.dir, { recursive: true, force: true });
    });
    for (const file of [CODE_SERVER, vsixPath()]) {
      if (!fs.existsSync(file))
        throw new Error(`${file} is missing: run npm run test:e2e (it packages the vsix and runs test/e2e/setup.sh)`);
    }
  }

  get serverUrl(): string {
    return `ws://127.0.0.1:${this.serverPort}`;
  }

  /** The next screenshot's path: test-artifacts/e2e/<test>/<nn>-<step>.png. */
  nextShot(step: string): string {
    this.shots += 1;
    const slug = step
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
    return nodePath.join(this.artifacts, `${String(this.shots).padStart(2, '0')}-${slug}.png`);
  }

  async startServer(): Promise<void> {
    if (this.serverPort === 0) this.serverPort = await freePort();
    const args = [
      CLI,
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(this.serverPort),
      '--data',
      nodePath.join(this.dir, 'server-data'),
    ];
    this.server = this.processes.start('rendezvous server', process.execPath, args, {
      logFile: nodePath.join(this.artifacts, 'server.log'),
    });
    await waitFor(
      'the rendezvous server to answer /healthz',
      async () => (await httpStatus(`http://127.0.0.1:${this.serverPort}/healthz`)) === 200,
      30_000,
    );
  }

  /**
   * Runs the `shared-folders` CLI with `args` against this world's server (an inviter or peer
   * that needs no VS Code); resolves with the last line it printed.
   */
  cli(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`shared-folders ${args[0]} failed: ${stderr || err.message}`));
        else resolve(stdout.trim().split('\n').pop() ?? '');
      });
    });
  }

  async stopServer(): Promise<void> {
    if (this.server) await this.processes.stop(this.server);
    this.server = undefined;
  }

  async user(name: string, options: UserOptions = {}): Promise<User> {
    const user = new User(this, name);
    this.users.set(name, user);
    await user.prepare(options);
    return user;
  }

  /** Headless Debian Chromium, started once, through a browser server so its PID is known. */
  browser(): Browser {
    if (!this.connected) throw new Error('the browser is not started: call world.launchBrowser() first');
    return this.connected;
  }

  async launchBrowser(): Promise<void> {
    this.browserServer = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
    const child = this.browserServer.process();
    this.processes.adopt('chromium', child);
    this.connected = await chromium.connect(this.browserServer.wsEndpoint(), { timeout: 60_000 });
  }

  /** Stops everything: pages, code-servers, the browser, the server. Never throws. */
  async close(): Promise<void> {
    for (const user of this.users.values()) {
      await user.stop().catch(() => undefined);
      await user.closeContext();
      try {
        user.collectLogs();
      } catch {
        // Logs are a courtesy.
      }
    }
    await this.connected?.close().catch(() => undefined);
    await this.browserServer?.close().catch(() => undefined);
    await this.processes.stopAll();
    if (!process.env['E2E_KEEP']) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}
