// Runs one of the Python peers in test/interop/clients/ to its end and hands back what it printed:
// one JSON event per line (see the scripts' docstrings).
import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { testCertificate } from '../support/test-certificate.ts';
import { PYTHON, parseEvents, startProgram, type ClientEvent, type ProgramResult } from './programs.ts';

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
