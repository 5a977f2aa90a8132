// Runs one of the Python peers in test/interop/clients/ to its end and hands back what it printed:
// one JSON event per line (see the scripts' docstrings).
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { testCertificate } from '../support/test-certificate.ts';
import { PYTHON, parseEvents, startProgram, type ClientEvent, type Program, type ProgramResult } from './programs.ts';

export interface PythonClientRun extends ProgramResult {
  events: ClientEvent[];
  /** Events of one kind, in order. */
  all(kind: string): ClientEvent[];
  /** The first event of this kind; the assertion fails (with the transcript) when there is none. */
  one(kind: string): ClientEvent;
  /** stdout and stderr, for assertion messages. */
  transcript: string;
}

/**
 * Start `clients/<script>` with the test CA and a time limit; the script stops itself after
 * `timeoutSeconds`, and is killed (by PID) 10 s later if it has not.
 */
export function runPythonClient(script: string, args: string[], timeoutSeconds = 20): Promise<PythonClientRun> {
  const path = fileURLToPath(new URL(`./clients/${script}`, import.meta.url));
  const program = startProgram(PYTHON, [path, '--ca', testCertificate().certFile, '--timeout', String(timeoutSeconds), ...args], {
    timeoutMs: (timeoutSeconds + 10) * 1000,
    // No __pycache__ next to the scripts in the work tree; output line by line.
    env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
  });
  return program.result().then((r) => {
    const events = parseEvents(r.stdout);
    const transcript = program.transcript() + (r.timedOut ? '\n[killed after its time limit]' : '');
    return {
      ...r,
      events,
      transcript,
      all: (kind) => events.filter((e) => e.event === kind),
      one(kind) {
        const found = events.find((e) => e.event === kind);
        expect(found, `${script} printed no "${kind}" event\n${transcript}`).to.not.equal(undefined);
        return found!;
      },
    };
  });
}

/**
 * A Python peer driven step by step: it reads one JSON command per line on stdin
 * ({"cmd": ..., "seq": n, ...}), answers each with a "done" event of the same seq, and prints
 * what its library reports as events meanwhile. See clients/peer_io.py.
 */
export class PythonPeer {
  private seq = 0;
  /** Indexes of the events take() has returned: each event is taken once. */
  private readonly taken = new Set<number>();

  private constructor(
    readonly script: string,
    readonly program: Program,
  ) {}

  /** Start `clients/<script>`; it stops itself after `timeoutSeconds` and at the end of its stdin. */
  static start(script: string, args: string[], timeoutSeconds = 40): PythonPeer {
    const path = fileURLToPath(new URL(`./clients/${script}`, import.meta.url));
    const program = startProgram(PYTHON, [path, '--ca', testCertificate().certFile, '--timeout', String(timeoutSeconds), ...args], {
      timeoutMs: (timeoutSeconds + 10) * 1000,
      env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      interactive: true,
    });
    return new PythonPeer(script, program);
  }

  /** The events printed so far (complete lines only: output may arrive in the middle of one). */
  get events(): ClientEvent[] {
    const out = this.program.stdout;
    return parseEvents(out.slice(0, out.lastIndexOf('\n') + 1));
  }

  /** Events of one kind printed so far, taken or not. */
  all(kind: string): ClientEvent[] {
    return this.events.filter((e) => e.event === kind);
  }

  /** The first event of this kind printed so far; the assertion fails (with the transcript) when there is none. */
  one(kind: string): ClientEvent {
    const found = this.events.find((e) => e.event === kind);
    expect(found, `${this.script} printed no "${kind}" event\n${this.transcript()}`).to.not.equal(undefined);
    return found!;
  }

  /**
   * The first event of `kind` matching `match` that no earlier take() returned, waiting for it
   * if it has not been printed yet.
   */
  take(kind: string, match: (e: ClientEvent) => boolean = () => true, timeoutMs = 10_000): Promise<ClientEvent> {
    return this.program.waitForOutput(
      () => {
        const events = this.events;
        const i = events.findIndex((e, i) => !this.taken.has(i) && e.event === kind && match(e));
        if (i < 0) return undefined;
        this.taken.add(i);
        return events[i];
      },
      timeoutMs,
      `"${kind}" event from ${this.script} matching ${match.toString()}`,
    );
  }

  /** Send a command and wait for its "done" event; a command the peer reports failed fails the test. */
  async command(cmd: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<ClientEvent> {
    const seq = ++this.seq;
    this.program.write(`${JSON.stringify({ cmd, seq, ...fields })}\n`);
    const done = await this.take('done', (e) => e.seq === seq, timeoutMs);
    expect(done.error, `${this.script}: command ${cmd} failed\n${this.transcript()}`).to.equal(undefined);
    return done;
  }

  /** End the peer's input (it closes its stream and exits) and wait for its exit. */
  async finish(): Promise<ProgramResult> {
    this.program.closeStdin();
    return this.program.result();
  }

  transcript(): string {
    return this.program.transcript();
  }
}
