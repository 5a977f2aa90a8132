// A terminal program under test, run in a private tmux server: keys typed with send-keys, the
// screen read with capture-pane. The server has its own socket in a temp dir, so no other tmux
// session on the machine is seen or touched, and it is ended by that socket and then by PID.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const TMUX = '/usr/bin/tmux';

export class TmuxSession {
  private readonly dir: string;
  private readonly socket: string;
  private serverPid: number | undefined;
  private panePid: number | undefined;
  /** The command names of those PIDs when they were started. */
  private started: string[] = [];

  private constructor(
    private readonly env: Record<string, string>,
    readonly home: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'chorus-interop-tmux-'));
    this.socket = join(this.dir, 'tmux.sock');
  }

  /**
   * Start `command` in a detached session. HOME is a fresh directory inside the session's temp
   * dir (the program's configuration and logs go there); `env` adds to a minimal environment.
   */
  static start(command: string, env: Record<string, string> = {}): TmuxSession {
    const home = mkdtempSync(join(tmpdir(), 'chorus-interop-home-'));
    const session = new TmuxSession({ PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', TERM: 'xterm-256color', HOME: home, ...env }, home);
    // -f /dev/null: no user tmux.conf; a wide window so lines are not wrapped.
    session.tmux(['-f', '/dev/null', 'new-session', '-d', '-x', '200', '-y', '50', command]);
    session.serverPid = Number(session.tmux(['display-message', '-p', '#{pid}']).trim()) || undefined;
    session.panePid = Number(session.tmux(['display-message', '-p', '#{pane_pid}']).trim()) || undefined;
    session.started = [session.serverPid, session.panePid].map((pid) => (pid === undefined ? '' : commandOf(pid) ?? '')).filter(Boolean);
    return session;
  }

  private tmux(args: string[], check = true): string {
    const r = spawnSync(TMUX, ['-S', this.socket, ...args], { env: this.env, encoding: 'utf8', timeout: 10_000 });
    if (check && r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
    return r.stdout ?? '';
  }

  /** Type text literally, then Enter. */
  type(text: string): void {
    this.tmux(['send-keys', '-l', text]);
    this.tmux(['send-keys', 'Enter']);
  }

  /** The visible screen plus scrollback. */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-200'], false);
  }

  get running(): boolean {
    return spawnSync(TMUX, ['-S', this.socket, 'has-session'], { env: this.env, stdio: 'ignore' }).status === 0;
  }

  /** Poll the screen until `match` finds something; fail with the screen after `timeoutMs`. */
  async waitFor(match: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.screen().match(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${match} on the screen within ${timeoutMs} ms:\n${this.screen()}`);
      if (!this.running) throw new Error(`the program ended before showing ${match}`);
      await delay(100);
    }
  }

  /** Wait up to `timeoutMs` for the program to end by itself (e.g. after /quit). */
  async waitForExit(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running) {
      if (Date.now() > deadline) return false;
      await delay(100);
    }
    return true;
  }

  /** End the tmux server (through its own socket, then by PID) and remove the temp dirs. */
  stop(): void {
    if (this.running) this.tmux(['kill-server'], false);
    for (const pid of [this.panePid, this.serverPid]) {
      // Only if that PID is still what we started (a PID may be reused once its process is gone).
      if (pid === undefined || !this.started.includes(commandOf(pid) ?? '')) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.home, { recursive: true, force: true });
  }
}

function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
