// Third-party programs from Debian packages as test peers: whether they are installed (so a suite
// can skip with the package to install), running them bounded in time, and killing by PID
// whatever outlives its test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's Python, where python3-slixmpp and python3-aioxmpp install their modules. `python3` on
 * PATH may be another interpreter (pyenv on developer machines) that lacks them.
 */
export const PYTHON = '/usr/bin/python3';

/** The installed version of a Debian package, or undefined when it is not installed. */
export function debianVersion(pkg: string): string | undefined {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', pkg], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const [status, version] = r.stdout.split('\t');
  return status?.endsWith(' installed') ? version : undefined;
}

/** Whether Debian's Python can import `module`. */
export function pythonHas(module: string): boolean {
  return spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Why a suite cannot run, or undefined when it can: each requirement is a Debian package and a
 * check that what the test runs is really there (dpkg may say "installed" for a broken install).
 */
export function missingPackages(requirements: { pkg: string; present: () => boolean }[]): string | undefined {
  const missing = requirements.filter((r) => debianVersion(r.pkg) === undefined || !r.present()).map((r) => r.pkg);
  if (missing.length === 0) return undefined;
  return `${missing.join(', ')} not installed (.ci/run installs ${missing.length > 1 ? 'them' : 'it'})`;
}

/**
 * Where the interop packages must be installed, so a missing one is a failure and not a skip:
 * .ci/run installs them and sets CHORUS_INTEROP_REQUIRED=1; CI services set CI.
 */
export function interopRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const on = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return on(env.CHORUS_INTEROP_REQUIRED) || on(env.CI);
}

/**
 * For a suite's `before` hook: skip it when its packages are missing (`missing` from
 * missingPackages), except where they are required (interopRequired): there it fails.
 */
export function skipIfMissing(ctx: Mocha.Context, missing: string | undefined): void {
  if (missing === undefined) return;
  if (interopRequired()) throw new Error(`${missing}: the interop tests are required here (CHORUS_INTEROP_REQUIRED or CI is set)`);
  ctx.skip();
}

export interface ProgramResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the program was killed for running past its time limit. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface ProgramOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Written to the program's stdin, which is then closed (unless `interactive`). */
  stdin?: string;
  /** Keep stdin open for write() (a peer driven by commands); closed by closeStdin() or at exit. */
  interactive?: boolean;
  /** Killed (SIGKILL) after this long; the result says timedOut. */
  timeoutMs: number;
}

const running = new Set<Program>();

/** One started program: its output so far, a way to wait for a line of it, its end, and kill(). */
export class Program {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private timedOut = false;
  private readonly timer: NodeJS.Timeout;
  private readonly ended: Promise<ProgramResult>;
  private lineWaiters: (() => void)[] = [];

  constructor(
    readonly command: string,
    readonly args: readonly string[],
    opts: ProgramOptions,
  ) {
    this.child = spawn(command, args, {
      cwd: opts.cwd,
      // A minimal environment: no user configuration or proxies of the machine leak into the peer.
      env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this);
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      for (const w of this.lineWaiters.splice(0)) w();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.child.stdin!.on('error', () => {}); // a program that exits without reading its stdin
    if (opts.interactive) {
      if (opts.stdin) this.child.stdin!.write(opts.stdin);
    } else {
      this.child.stdin!.end(opts.stdin ?? '');
    }
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.kill('SIGKILL');
    }, opts.timeoutMs);
    this.ended = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(this.timer);
        running.delete(this);
        for (const w of this.lineWaiters.splice(0)) w();
        resolve({ code, signal, timedOut: this.timedOut, stdout: this.stdout, stderr: this.stderr });
      };
      this.child.on('close', done);
      this.child.on('error', (err) => {
        this.stderr += `\n[spawn failed: ${err.message}]`;
        done(null, null);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves when the program exits (or is killed); never rejects. */
  result(): Promise<ProgramResult> {
    return this.ended;
  }

  get exited(): boolean {
    return !running.has(this);
  }

  /** Wait for a line of stdout that satisfies `match` (lines already printed count). */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    return this.waitForOutput(() => this.stdout.split('\n').find(match), timeoutMs, 'the expected line');
  }

  /**
   * Wait until `find`, asked again whenever stdout grows, returns something other than
   * undefined. Fails with the transcript on the time limit or when the program exits first.
   */
  waitForOutput<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.describe()}: no ${what} within ${timeoutMs} ms\n${this.transcript()}`)), timeoutMs);
      const check = () => {
        const found = find();
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else if (this.exited) {
          clearTimeout(timer);
          reject(new Error(`${this.describe()} exited before printing ${what}\n${this.transcript()}`));
        } else {
          this.lineWaiters.push(check);
        }
      };
      check();
    });
  }

  /** Write to the stdin of an `interactive` program. */
  write(text: string): void {
    if (this.exited) throw new Error(`${this.describe()} has exited\n${this.transcript()}`);
    this.child.stdin!.write(text);
  }

  /** End the stdin of an `interactive` program (an interactive peer quits on end of input). */
  closeStdin(): void {
    this.child.stdin!.end();
  }

  /** Signal this program by its PID (never by name). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exited && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 2000): Promise<ProgramResult> {
    this.kill('SIGTERM');
    const late = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const result = await this.ended;
    clearTimeout(late);
    return result;
  }

  describe(): string {
    return `${this.command} ${this.args.join(' ')}`;
  }

  /** Output for an assertion message, so a failure shows what the peer said. */
  transcript(): string {
    return `--- stdout of ${this.command}\n${this.stdout}--- stderr\n${this.stderr.slice(-4000)}`;
  }
}

export function startProgram(command: string, args: readonly string[], opts: ProgramOptions): Program {
  return new Program(command, args, opts);
}

/** Stop every program still running (for `after` hooks). */
export async function stopAllPrograms(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** One JSON object per stdout line, as test/interop/clients/*.py print them. */
export interface ClientEvent {
  event: string;
  [field: string]: unknown;
}

export function parseEvents(stdout: string): ClientEvent[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as ClientEvent);
}

/** A private HOME for a peer, so it reads no configuration of the machine's user; removed by the returned function. */
export function privateHome(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `chorus-interop-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
