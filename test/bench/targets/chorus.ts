// Chorus itself, started from this checkout with a private config and data directory in a temp
// dir. Accounts are created with one `chorus adduser --bulk FILE` ("JID PASSWORD" per line);
// the server picks the salts, so the generator learns them in its priming pass.
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { execFileAsync, freePort, makeTempDir, removeDir, selfSignedCert, sleep, spawnServer, stopPid, tail, waitForPort, type Spawned } from './server-process.ts';
import type { Endpoint, Target, TargetOptions } from './target.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
// The compiled build, as `npm start` runs it (`npm run bench` builds it first).
const NODE_ARGS = ['build/server/main.js'];

export interface ChorusConfigOptions {
  dataDir: string;
  domain: string;
  port: number;
  cert: string;
  key: string;
}

/**
 * The one place that knows Chorus's configuration schema (server/config/schema.ts): a single
 * STARTTLS c2s listener on loopback, TLS required, the embedded store, warnings-only logging.
 */
export function chorusConfig(o: ChorusConfigOptions): string {
  return stringify({
    dataDir: o.dataDir,
    log: { level: 'warn', format: 'json' },
    hosts: [{ domain: o.domain, certificate: { cert: o.cert, key: o.key } }],
    storage: { kind: 'embedded' },
    listeners: [{ type: 'c2s', address: '127.0.0.1', port: o.port, tls: 'starttls', requireTls: true }],
  });
}

export class ChorusTarget implements Target {
  readonly name = 'chorus';
  #dir = '';
  #proc: Spawned | undefined;

  constructor(private readonly o: TargetOptions) {}

  async start(): Promise<Endpoint> {
    const o = this.o;
    this.#dir = await makeTempDir('chorus');
    const tlsFiles = await selfSignedCert(this.#dir, o.domain, o.certKey);
    const port = await freePort();
    const config = join(this.#dir, 'chorus.yaml');
    await writeFile(config, chorusConfig({ dataDir: join(this.#dir, 'data'), domain: o.domain, port, ...tlsFiles }));
    // CHORUS_* variables would override the file (server/config): the bench's config must win.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHORUS_')));

    const bulk = join(this.#dir, 'users.txt');
    await writeFile(bulk, Array.from({ length: o.sessions }, (_, i) => `${o.userPrefix}${i}@${o.domain} ${o.password}`).join('\n') + '\n');
    o.log(`chorus: creating ${o.sessions} accounts (chorus adduser --bulk)`);
    const t0 = Date.now();
    try {
      await execFileAsync(process.execPath, [...NODE_ARGS, 'adduser', '--bulk', bulk, '--config', config], {
        cwd: REPO,
        env,
        timeout: 15 * 60_000,
        maxBuffer: 16 << 20,
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`chorus adduser --bulk failed: ${e.stderr || e.message}`);
    }
    o.log(`chorus: accounts created in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const logFile = join(this.#dir, 'chorus.log');
    // BENCH_CHORUS_NODE_ARGS adds Node flags to the server only (e.g. --cpu-prof for profiling).
    const extra = (process.env.BENCH_CHORUS_NODE_ARGS ?? '').split(' ').filter(Boolean);
    this.#proc = spawnServer(process.execPath, [...extra, ...NODE_ARGS, 'start', '--config', config], { cwd: REPO, env, logFile });
    const pid = this.#proc.child.pid!;
    try {
      await waitForPort('127.0.0.1', port, 60_000, pid);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await tail(logFile)}`);
    }
    await sleep(500);
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version?: string };
    return { host: '127.0.0.1', port, domain: o.domain, pid, version: `Chorus ${pkg.version ?? '?'} (this checkout)`, workDir: this.#dir };
  }

  async stop(): Promise<void> {
    if (this.#proc?.child.pid) await stopPid(this.#proc.child.pid, 15_000);
    this.#proc = undefined;
    if (this.#dir && !this.o.keepTemp) await removeDir(this.#dir);
  }
}
