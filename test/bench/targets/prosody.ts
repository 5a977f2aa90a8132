// Prosody 0.12 (Debian's /usr/bin/prosody) started privately: its own config, data directory,
// certificate and loopback port in a temp dir. Accounts are written straight into the data
// directory in mod_auth_internal_hashed's format (prosodyctl register costs a Lua start per account).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { makeCredentials, seedsOf } from './credentials.ts';
import { freePort, makeTempDir, removeDir, selfSignedCert, sleep, spawnServer, stopPid, tail, waitForPort, type Spawned } from './server-process.ts';
import type { Endpoint, Target, TargetOptions } from './target.ts';

const PROSODY = '/usr/bin/prosody';
/** mod_auth_internal_hashed's default_iteration_count in 0.12, what `prosodyctl register` would store. */
const ITERATIONS = 10_000;

export class ProsodyTarget implements Target {
  readonly name = 'prosody';
  #dir = '';
  #proc: Spawned | undefined;

  constructor(private readonly o: TargetOptions) {}

  async start(): Promise<Endpoint> {
    const o = this.o;
    this.#dir = await makeTempDir('prosody');
    const dataDir = join(this.#dir, 'data');
    const accounts = join(dataDir, encodePath(o.domain), 'accounts');
    await mkdir(accounts, { recursive: true });
    const tlsFiles = await selfSignedCert(this.#dir, o.domain, o.certKey);

    o.log(`prosody: writing ${o.sessions} accounts (PBKDF2 × ${ITERATIONS}, once each)`);
    const creds = await makeCredentials(o.sessions, o.userPrefix, o.password, ITERATIONS, () => Buffer.from(randomUUID()));
    for (let i = 0; i < creds.length; i += 256) {
      await Promise.all(
        creds.slice(i, i + 256).map((c) =>
          writeFile(
            join(accounts, `${encodePath(c.user)}.dat`),
            // util.serialization's layout, as prosodyctl writes it
            `return {\n\t["server_key"] = "${c.serverKey.toString('hex')}";\n\t["salt"] = "${c.salt.toString('latin1')}";\n` +
              `\t["iteration_count"] = ${c.iterations};\n\t["stored_key"] = "${c.storedKey.toString('hex')}";\n};\n`,
          ),
        ),
      );
    }

    const port = await freePort();
    const config = join(this.#dir, 'prosody.cfg.lua');
    await writeFile(config, prosodyConfig({ dir: this.#dir, dataDir, port, domain: o.domain, ...tlsFiles }));
    const logFile = join(this.#dir, 'stdout.log');
    this.#proc = spawnServer(PROSODY, ['--config', config, '-F'], { cwd: this.#dir, logFile });
    const pid = this.#proc.child.pid!;
    try {
      await waitForPort('127.0.0.1', port, 30_000, pid);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await tail(join(this.#dir, 'prosody.log'))}\n${await tail(logFile)}`);
    }
    await sleep(500); // let it finish loading modules after the listener opens
    const version = (await readFile('/usr/lib/prosody/prosody.version', 'utf8').catch(() => '?')).trim();
    return { host: '127.0.0.1', port, domain: o.domain, pid, version: `Prosody ${version}`, seeds: seedsOf(creds, o.password), workDir: this.#dir };
  }

  async stop(): Promise<void> {
    if (this.#proc?.child.pid) await stopPid(this.#proc.child.pid, 15_000);
    this.#proc = undefined;
    if (this.#dir && !this.o.keepTemp) await removeDir(this.#dir);
  }
}

/** util.datamanager's path encoding: every non-alphanumeric byte becomes %xx. */
function encodePath(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * The smallest configuration a real deployment of this shape would have: TLS required,
 * hashed passwords, roster, ping; no s2s, no HTTP, no rate limits (mod_limits is not loaded,
 * like the other targets' shapers). The epoll backend is 0.12's default. BENCH_PROSODY_EXTRA
 * adds global Lua lines, to try a setting (e.g. network_settings = { nagle = false }).
 */
function prosodyConfig(c: { dir: string; dataDir: string; port: number; domain: string; cert: string; key: string }): string {
  return `-- written by test/bench for one run
run_as_root = true -- the bench may run as root in CI containers; Prosody refuses otherwise
pidfile = "${c.dir}/prosody.pid"
data_path = "${c.dataDir}"
certificates = "${c.dir}"
log = { warn = "${c.dir}/prosody.log" }
network_backend = "epoll"
modules_enabled = { "roster"; "saslauth"; "tls"; "ping"; "posix" }
modules_disabled = { "s2s" }
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = true
c2s_ports = { ${c.port} }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
s2s_ports = { }
${process.env.BENCH_PROSODY_EXTRA ?? ''}
VirtualHost "${c.domain}"
  ssl = { certificate = "${c.cert}"; key = "${c.key}" }
`;
}
