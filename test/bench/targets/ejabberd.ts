// ejabberd 23.01 (Debian's ejabberdctl) started privately: its own ejabberd.yml, Erlang node
// name, distribution port (no epmd), spool and log directories in a temp dir. Accounts are
// imported in one `ejabberdctl import_piefxis` (XEP-0227) with SCRAM credentials the bench
// computed, so ejabberd stores them exactly as `register` would with auth_password_format: scram.
import { chown, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { makeCredentials, seedsOf } from './credentials.ts';
import { execFileAsync, freePort, makeTempDir, removeDir, selfSignedCert, sleep, spawnServer, stopPid, tail, waitForPort, type Spawned } from './server-process.ts';
import { commandOf, descendantsOf } from '../proc-stats.ts';
import type { Endpoint, Target, TargetOptions } from './target.ts';

const EJABBERDCTL = '/usr/sbin/ejabberdctl';
const ITERATIONS = 4096; // ejabberd's default for SCRAM credentials it stores

export class EjabberdTarget implements Target {
  readonly name = 'ejabberd';
  #dir = '';
  #proc: Spawned | undefined;
  #beam = 0;
  #ctlArgs: string[] = [];

  constructor(private readonly o: TargetOptions) {}

  async start(): Promise<Endpoint> {
    const o = this.o;
    this.#dir = await makeTempDir('ejabberd');
    const spool = join(this.#dir, 'spool');
    const logs = join(this.#dir, 'logs');
    await mkdir(spool);
    await mkdir(logs);
    const tlsFiles = await selfSignedCert(this.#dir, o.domain, o.certKey);
    const pem = join(this.#dir, 'server.pem');
    await writeFile(pem, (await readFile(tlsFiles.cert, 'utf8')) + (await readFile(tlsFiles.key, 'utf8')));

    const port = await freePort();
    const distPort = await freePort();
    const yml = join(this.#dir, 'ejabberd.yml');
    const ctlCfg = join(this.#dir, 'ejabberdctl.cfg');
    await writeFile(yml, ejabberdConfig({ port, domain: o.domain, pem, cacheSize: Math.max(1000, o.sessions * 2) }));
    // --config-dir keeps /etc/ejabberd out of the run, so the resolver file it expects is ours too.
    await writeFile(join(this.#dir, 'inetrc'), '{lookup,["file","native"]}.\n{host,{127,0,0,1}, ["localhost"]}.\n');
    await writeFile(
      ctlCfg,
      [
        `ERLANG_NODE=bench${randomBytes(3).toString('hex')}@localhost`,
        `ERL_DIST_PORT=${distPort}`, // fixed distribution port: no epmd daemon left behind
        'INET_DIST_INTERFACE=127.0.0.1',
        'ERL_MAX_PORTS=65536',
        'ERL_PROCESSES=250000',
        'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"',
        '',
      ].join('\n'),
    );
    this.#ctlArgs = ['--config', yml, '--ctl-config', ctlCfg, '--spool', spool, '--logs', logs, '--config-dir', this.#dir];

    o.log(`ejabberd: computing ${o.sessions} SCRAM credentials (PBKDF2 × ${ITERATIONS}, once each)`);
    const creds = await makeCredentials(o.sessions, o.userPrefix, o.password, ITERATIONS, () => randomBytes(16));
    // COMPAT(ejabberd 23.01): import_piefxis base64-decodes the keys and salt once, but ejabberd
    // keeps them base64-encoded in its passwd table (xmpp_sasl_scram decodes again at login), so
    // each value is encoded twice here to arrive stored the way `register` stores it.
    const b64twice = (b: Buffer): string => Buffer.from(b.toString('base64')).toString('base64');
    const users = creds
      .map(
        (c) =>
          `<user name='${c.user}'><scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'>` +
          `<iter-count>${c.iterations}</iter-count><salt>${b64twice(c.salt)}</salt>` +
          `<server-key>${b64twice(c.serverKey)}</server-key><stored-key>${b64twice(c.storedKey)}</stored-key>` +
          `</scram-credentials></user>`,
      )
      .join('\n');
    const pie = join(this.#dir, 'users.xml');
    await writeFile(pie, `<?xml version='1.0' encoding='UTF-8'?>\n<server-data xmlns='urn:xmpp:pie:0'><host jid='${o.domain}'>\n${users}\n</host></server-data>\n`);

    // As root, ejabberdctl would re-run itself through `su ejabberd`, whose PAM session resets the
    // fd limit to 1024 (ejabberd then fails at ~1000 sessions with "too many open files"). So the
    // bench becomes the ejabberd user itself, after raising the limit; HOME holds the node cookie.
    const asUser: { uid?: number; gid?: number } = {};
    if (process.getuid?.() === 0) {
      asUser.uid = Number(execFileSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' }).trim());
      asUser.gid = Number(execFileSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' }).trim());
      await chownTree(this.#dir, asUser.uid, asUser.gid);
    }
    const env = { ...process.env, HOME: this.#dir };

    const logFile = join(this.#dir, 'stdout.log');
    this.#proc = spawnServer(EJABBERDCTL, [...this.#ctlArgs, 'foreground'], { cwd: this.#dir, logFile, env, ...asUser });
    const shell = this.#proc.child.pid!;
    try {
      await waitForPort('127.0.0.1', port, 60_000, shell);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await tail(join(logs, 'ejabberd.log'))}\n${await tail(logFile)}`);
    }
    this.#beam = descendantsOf(shell).find((p) => commandOf(p).includes('beam.smp')) ?? 0;
    if (!this.#beam) throw new Error('ejabberd listens but its beam.smp process was not found under ejabberdctl');

    o.log(`ejabberd: importing ${o.sessions} accounts (import_piefxis)`);
    const t0 = Date.now();
    try {
      await execFileAsync(EJABBERDCTL, [...this.#ctlArgs, 'import_piefxis', pie], { timeout: 15 * 60_000, cwd: this.#dir, env, ...asUser });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`ejabberdctl import_piefxis failed: ${e.stdout ?? ''}${e.stderr ?? e.message}`);
    }
    o.log(`ejabberd: imported in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await sleep(1000);
    const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'ejabberd'], { encoding: 'utf8' }).trim();
    return { host: '127.0.0.1', port, domain: o.domain, pid: this.#beam, version: `ejabberd ${version}`, seeds: seedsOf(creds, o.password), workDir: this.#dir };
  }

  async stop(): Promise<void> {
    // BEAM treats SIGTERM as init:stop(): a clean shutdown, like `ejabberdctl stop`.
    if (this.#beam) await stopPid(this.#beam, 20_000);
    if (this.#proc) await Promise.race([this.#proc.exited, sleep(5000)]);
    this.#beam = 0;
    this.#proc = undefined;
    if (this.#dir && !this.o.keepTemp) await removeDir(this.#dir);
  }
}

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  await chown(dir, uid, gid);
  for (const e of await readdir(dir, { recursive: true })) await chown(join(dir, e), uid, gid);
}

/**
 * Same shape as the Prosody target: STARTTLS required, SCRAM-stored passwords, roster and ping,
 * no s2s listener, no shaper (no traffic limits on any target). The listen backlog is set to
 * Prosody's 128 (ejabberd's default of 5 drops SYNs under a login burst).
 */
function ejabberdConfig(c: { port: number; domain: string; pem: string; cacheSize: number }): string {
  return `# written by test/bench for one run
hosts: ["${c.domain}"]
loglevel: warning
log_rotate_count: 0
certfiles: ["${c.pem}"]
listen:
  - port: ${c.port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
    max_stanza_size: 262144
    backlog: 128
auth_method: [internal]
auth_password_format: scram
auth_scram_hash: sha
# Caches sized for the run's accounts: the default of 1000 entries makes ejabberd warn
# "you should increase maximum cache size" and churn its auth cache at 10,000 users.
cache_size: ${c.cacheSize}
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
modules:
  mod_roster: {}
  mod_ping: {}
`;
}
