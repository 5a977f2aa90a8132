// Command-line options of `npm run bench`, with the defaults the issue sets (10k sessions,
// 2000 and 4000 msg/s for 20 s each) and the flags to scale down.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

export type ServerKind = 'chorus' | 'prosody' | 'ejabberd' | 'external';

export interface BenchOptions {
  server: ServerKind;
  sessions: number;
  rates: number[];
  durationS: number;
  workers: number;
  concurrency: number;
  settleS: number;
  drainS: number;
  to: 'bare' | 'full';
  bodyBytes: number;
  sourceIps: number;
  loginTimeoutS: number;
  maxMinutes: number;
  prime: boolean;
  pin: boolean;
  nice: number;
  waitQuietS: number;
  certKey: 'ec' | 'rsa';
  keep: boolean;
  json: string | undefined;
  host: string;
  port: number;
  domain: string;
  pid: number;
  userPrefix: string;
  password: string;
}

export const USAGE = `usage: npm run bench -- [options]

Opens N authenticated sessions (STARTTLS, SCRAM-SHA-1, bind, roster get, initial presence)
against an XMPP server on loopback, holds them, then sends 1:1 chat messages between random
online pairs at each rate; reports server CPU and memory (from /proc/<pid>) and latency.

target
  --server KIND         chorus (default) | prosody | ejabberd | external
                        chorus, prosody, ejabberd: started by the bench in a temp dir with
                        their own config, accounts, self-signed certificate and free ports
  --host H --port P     external only: where the server listens (host default 127.0.0.1)
  --domain D            XMPP domain (default localhost)
  --pid PID             external only: the server's process id (CPU and memory are read from /proc)
  --user-prefix S       accounts are S0 .. S{N-1} (default bench)
  --password P          their password (default bench-password)
  --cert ec|rsa         key of the generated certificate: ECDSA P-256 (default) or RSA 2048

load
  --sessions N          sessions to open and hold (default 10000)
  --rates A,B,..        message rates in msg/s, one phase each (default 2000,4000)
  --duration S          seconds per rate (default 20)
  --to bare|full        address messages to the bare JID (default) or the full JID
  --body-bytes N        size of each message body (default 64)
  --concurrency N       logins in flight at once, over all workers (default 100)
  --workers N|auto      generator processes, each holding sessions/N sockets (default auto:
                        one process if its open-file limit allows, else the fewest that fit)
  --source-ips N        spread connections over 127.0.0.1..127.0.0.N (default 4)
  --no-prime            skip the priming pass: clients derive their SCRAM keys during the
                        measured logins (a cold client; targets the bench provisions
                        itself are always pre-seeded)
  --pin                 pin the server to CPU 0 and the generator to CPU 1 (taskset)
  --nice=N              renice the server and the generator (every thread) to N, e.g. --nice=-10
                        on a machine other jobs share; the "other%" column shows their load

timing and output
  --wait-quiet S        before the login phase and each rate, wait up to S seconds for
                        other processes on the machine to use < 25% of a core (default 120;
                        0: do not wait); a shared machine otherwise skews every figure
  --settle S            seconds to wait before reading memory (idle and held; default 10)
  --drain S             seconds to wait for in-flight messages after each rate (default 5)
  --login-timeout S     per-session login timeout (default 60)
  --max-minutes M       abort the whole run after M minutes (default 45)
  --json FILE           also write every figure as JSON
  --keep                keep the target's temp dir (config, logs) for inspection
  -h, --help            this text

examples
  npm run bench                                         # chorus, 10k sessions, 2000 and 4000 msg/s
  npm run bench -- --sessions 500 --duration 5          # a quick run
  npm run bench -- --server prosody --json prosody.json
  npm run bench -- --server external --port 5222 --pid 1234 --sessions 1000
`;

export class OptionsError extends Error {}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      server: { type: 'string', default: 'chorus' },
      sessions: { type: 'string', default: '10000' },
      rates: { type: 'string', default: '2000,4000' },
      duration: { type: 'string', default: '20' },
      workers: { type: 'string', default: 'auto' },
      concurrency: { type: 'string', default: '100' },
      settle: { type: 'string', default: '10' },
      drain: { type: 'string', default: '5' },
      to: { type: 'string', default: 'bare' },
      'body-bytes': { type: 'string', default: '64' },
      'source-ips': { type: 'string', default: '4' },
      'login-timeout': { type: 'string', default: '60' },
      'max-minutes': { type: 'string', default: '45' },
      'no-prime': { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
      nice: { type: 'string', default: '0' },
      'wait-quiet': { type: 'string', default: '120' },
      cert: { type: 'string', default: 'ec' },
      keep: { type: 'boolean', default: false },
      json: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      domain: { type: 'string', default: 'localhost' },
      pid: { type: 'string' },
      'user-prefix': { type: 'string', default: 'bench' },
      password: { type: 'string', default: 'bench-password' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) return 'help';
  const server = v.server as ServerKind;
  if (!['chorus', 'prosody', 'ejabberd', 'external'].includes(server)) throw new OptionsError(`--server: chorus, prosody, ejabberd or external, not '${v.server}'`);
  const int = (name: string, s: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw new OptionsError(`--${name}: an integer from ${min} to ${max}, not '${s}'`);
    return n;
  };
  const num = (name: string, s: string | undefined, min: number): number => {
    const n = Number(s);
    if (!Number.isFinite(n) || n < min) throw new OptionsError(`--${name}: a number ≥ ${min}, not '${s}'`);
    return n;
  };
  const rates = (v.rates ?? '').split(',').filter(Boolean).map((r) => int('rates', r.trim(), 1, 1_000_000));
  if (v.to !== 'bare' && v.to !== 'full') throw new OptionsError(`--to: bare or full, not '${v.to}'`);
  if (v.cert !== 'ec' && v.cert !== 'rsa') throw new OptionsError(`--cert: ec or rsa, not '${v.cert}'`);
  if (!/^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(v.host!)) throw new OptionsError('--host: loopback only (127.0.0.0/8, ::1, localhost)');
  const sessions = int('sessions', v.sessions, 2, 200_000);
  const o: BenchOptions = {
    server,
    sessions,
    rates,
    durationS: num('duration', v.duration, 1),
    workers: v.workers === 'auto' ? autoWorkers(sessions) : int('workers', v.workers, 1, 64),
    concurrency: int('concurrency', v.concurrency, 1, 10_000),
    settleS: num('settle', v.settle, 0),
    drainS: num('drain', v.drain, 0),
    to: v.to,
    bodyBytes: int('body-bytes', v['body-bytes'], 1, 100_000),
    sourceIps: int('source-ips', v['source-ips'], 1, 250),
    loginTimeoutS: num('login-timeout', v['login-timeout'], 1),
    maxMinutes: num('max-minutes', v['max-minutes'], 1),
    prime: !v['no-prime'],
    pin: v.pin!,
    nice: int('nice', v.nice, -20, 19),
    waitQuietS: num('wait-quiet', v['wait-quiet'], 0),
    certKey: v.cert,
    keep: v.keep!,
    json: v.json,
    host: v.host!,
    port: 0,
    domain: v.domain!,
    pid: 0,
    userPrefix: v['user-prefix']!,
    password: v.password!,
  };
  if (server === 'external') {
    o.port = int('port', v.port, 1, 65535);
    o.pid = int('pid', v.pid, 1);
  } else if (v.port || v.pid) throw new OptionsError('--port and --pid are for --server external only');
  return o;
}

/**
 * One generator process when its file-descriptor limit allows: each further process on the same
 * core adds context switches and CPU (measured at 10,000 sessions and 2,000 msg/s: 4 processes
 * used 50% of a core and measured a p99 of 16-26 ms, 1 process 20% and 10-11 ms). Processes
 * inherit this one's soft limit; 64 descriptors are left for everything but the sessions.
 */
function autoWorkers(sessions: number): number {
  const limit = fdSoftLimit();
  const perProcess = Math.max(1, limit - 64);
  return Math.min(64, Math.ceil(sessions / perProcess));
}

function fdSoftLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    if (out === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const n = Number(out);
    return Number.isInteger(n) && n > 0 ? n : 1024;
  } catch {
    return 1024;
  }
}
