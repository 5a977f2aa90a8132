// The real `chorus` command as a child process, for CLI and lifecycle tests: one-shot commands
// with their exit code and output, and `chorus start` with its JSON log lines (stdout is a pipe,
// so the logger writes JSON). It runs the sources through tsx (`node --import tsx server/main.ts`)
// unless asked to run what operators run: the compiled build, or `npm start` itself.
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Variables added to the environment (CHORUS_* from the test's own environment are removed first). */
  env?: Record<string, string>;
  /** Written to standard input, which is then closed (it is always a pipe: never a TTY). */
  input?: string;
  timeoutMs?: number;
}

export async function makeTempDir(prefix = 'chorus-cli-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Write a configuration file; JSON is valid YAML, so the object is written as JSON. */
export async function writeConfig(dir: string, config: unknown, name = 'chorus.yaml'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // A developer's own CHORUS_CONFIG or CHORUS_DATA_DIR must not leak into the command under test.
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CHORUS_')) env[k] = v;
  return { ...env, ...extra };
}

/**
 * 'source': the TypeScript sources through tsx. 'build': the compiled build, as `npm start` runs
 * it. 'npm-start': `npm start -- ARGS` in a process group of its own, so that a test can signal
 * the group the way a terminal's Ctrl-C does (see ChorusProcess.signalGroup). 'build-unreaped':
 * the compiled build as the child of a shell that then becomes `sleep`, which never reaps it: a
 * killed server stays a zombie, as under a supervisor that is slow to wait() for its children.
 */
export type Launcher = 'source' | 'build' | 'npm-start' | 'build-unreaped';

/** build-unreaped: the shell writes the server's pid on this line of stderr. */
const PID_LINE = /^server pid (\d+)$/m;

const BUILT_MAIN = join(REPO_ROOT, 'build', 'server', 'main.js');

function spawnChorus(args: string[], env?: Record<string, string>, launcher: Launcher = 'source'): ChildProcess {
  if (launcher !== 'source' && !existsSync(BUILT_MAIN)) throw new Error('the server is not built: run `npm run build` (npm test does)');
  const opts = { cwd: REPO_ROOT, env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] as ('pipe')[] };
  if (launcher === 'npm-start') return spawn('npm', ['start', '--silent', '--', ...args.filter((a) => a !== 'start')], { ...opts, detached: true });
  if (launcher === 'build-unreaped') {
    const script = '"$0" "$@" & echo "server pid $!" >&2; exec sleep 600';
    return spawn('sh', ['-c', script, process.execPath, BUILT_MAIN, ...args], { ...opts, detached: true });
  }
  const entry = launcher === 'build' ? [BUILT_MAIN] : ['--import', 'tsx', 'server/main.ts'];
  return spawn(process.execPath, [...entry, ...args], opts);
}

/** Run one command to completion. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = spawnChorus(args, opts.env);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.on('error', () => {
    // The command may exit before reading its input.
  });
  child.stdin!.end(opts.input ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chorus ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** One JSON log line of the server (pino): level, msg and the fields logged with it. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `chorus start` running as a child process. */
export class ChorusProcess {
  readonly logs: LogLine[] = [];
  /** Lines of stdout that were not JSON (there should be none). */
  readonly otherOutput: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;
  private waiters: (() => void)[] = [];

  private constructor(readonly child: ChildProcess, private readonly launcher: Launcher = 'source') {
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.trim()) continue;
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.otherOutput.push(line);
        }
      }
      this.wake();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    child.stdin!.end();
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        this.wake();
        resolve(this.exit);
      });
    });
  }

  /** Start the server and wait until it logs that it has started. */
  static async start(configPath: string, opts: { env?: Record<string, string>; timeoutMs?: number; launcher?: Launcher } = {}): Promise<ChorusProcess> {
    const p = ChorusProcess.spawn(configPath, opts);
    try {
      await p.waitForLog((l) => l.msg === 'Chorus started', opts.timeoutMs ?? 30_000);
    } catch (err) {
      p.child.kill('SIGKILL');
      throw err;
    }
    return p;
  }

  /** Start the server without waiting for it (a test that expects the start to fail). */
  static spawn(configPath: string, opts: { env?: Record<string, string>; launcher?: Launcher } = {}): ChorusProcess {
    return new ChorusProcess(spawnChorus(['start', '--config', configPath], opts.env, opts.launcher), opts.launcher);
  }

  /** The server's pid (not npm's or the shell's). */
  get pid(): number {
    if (this.launcher !== 'build-unreaped') return this.child.pid!;
    const m = PID_LINE.exec(this.stderr);
    if (!m) throw new Error('the server pid is not known yet');
    return Number(m[1]);
  }


  /** The port a listener got, from its `listening` log line (listeners are configured with port 0). */
  port(listener: 'c2s-starttls' | 'c2s-direct-tls' | 'http' | 'https'): number {
    const line = this.logs.find((l) => l.msg === 'listening' && l.listener === listener);
    if (!line || typeof line.port !== 'number') throw new Error(`no '${listener}' listener was logged`);
    return line.port;
  }

  /** The first log line matching, waiting for it if need be. */
  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const found = () => this.logs.find(match);
    await this.until(() => found() !== undefined, timeoutMs, 'a log line', true);
    return found()!;
  }

  /** Resolves with how the process ended; rejects if it is still running after timeoutMs. */
  async waitExit(timeoutMs: number): Promise<Exit> {
    await this.until(() => this.exit !== null, timeoutMs, 'the process to exit', false);
    return this.exit!;
  }

  /** Signal the server process itself. */
  signal(sig: NodeJS.Signals): void {
    if (this.launcher === 'build-unreaped') process.kill(this.pid, sig);
    else this.child.kill(sig);
  }

  /** Signal the child's whole process group: what a terminal does on Ctrl-C under `npm start`. */
  signalGroup(sig: NodeJS.Signals): void {
    process.kill(-this.child.pid!, sig);
  }

  /** Make sure the process is gone (test cleanup): SIGTERM, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.exit) return;
    if (this.launcher === 'build-unreaped') {
      // The shell's sleep exits at once; the server goes with SIGKILL rather than outlive it.
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // Already gone (killed by the test).
      }
      this.signalGroup('SIGTERM');
      await this.exited;
      return;
    }
    // npm's group is signalled as a whole, so that killing npm cannot leave the server behind.
    const kill = (sig: NodeJS.Signals) => (this.launcher === 'npm-start' ? this.signalGroup(sig) : this.signal(sig));
    kill('SIGTERM');
    try {
      await this.waitExit(10_000);
    } catch {
      kill('SIGKILL');
      await this.exited;
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private until(done: () => boolean, timeoutMs: number, what: string, failOnExit: boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const describe = () =>
        `${what}; exit: ${JSON.stringify(this.exit)}; last logs: ${this.logs.slice(-5).map((l) => l.msg).join(' | ')}; stderr: ${this.stderr.slice(-1500)}`;
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${describe()}`)), timeoutMs);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else if (failOnExit && this.exit) {
          clearTimeout(timer);
          reject(new Error(`the server exited while waiting for ${describe()}`));
        } else {
          this.waiters.push(check);
        }
      };
      this.waiters.push(check);
    });
  }
}
