// The `chorus` command: start | adduser | passwd | deluser | users | cert | check.
// This file is the composition root: the only place in server/ that imports the module list
// from xep/ (docs/architecture.md explains the exception).
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { modules } from '../xep/index.ts';
import { loadConfigFile, ConfigError, type Config } from './config/load-config.ts';
import { createLogger, type Logger } from './log.ts';
import { Server } from './server.ts';
import { parseJid, JidError, type Jid } from './jid.ts';
import { AccountExistsError, NoSuchAccountError } from './accounts.ts';
import { readPassword } from './cli/read-password.ts';
import { certCommand } from './cli/cert-command.ts';
import { checkCommand } from './cli/check-command.ts';

const USAGE = `usage: chorus <command> [options]

commands:
  start                         start the server
  adduser JID [--password PW]   create an account (asks for the password when not given)
  adduser --bulk FILE           create many accounts, one "JID PASSWORD" per line
  passwd JID [--password PW]    change an account's password
  deluser JID                   delete an account and everything stored for it
  users HOST                    list a host's accounts
  cert generate [HOST]          (re)generate self-signed certificates
  cert import DIR               import certificates (a certbot live/ directory or one domain's folder)
  check                         validate the configuration and certificates; print the DNS records to publish

options:
  --config FILE                 configuration file (default: conf/chorus.yaml; env CHORUS_CONFIG)
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      password: { type: 'string' },
      bulk: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const configPath = values.config ?? process.env.CHORUS_CONFIG ?? 'conf/chorus.yaml';
  const config = await loadConfigFile(configPath, modules);
  const log = createLogger(config.log.level, config.log.format === 'auto' ? {} : { pretty: config.log.format === 'pretty' });

  switch (command) {
    case 'start':
      return start(config, log);
    case 'adduser':
      if (values.bulk) return withServer(config, log, (s) => bulkAdd(s, values.bulk!));
      return withServer(config, log, async (s) => {
        const account = accountJid(rest[0], s);
        const password = values.password ?? (await readPassword(`Password for ${account}: `, true));
        await s.accounts.create(account, password);
        console.log(`created ${account}`);
      });
    case 'passwd':
      return withServer(config, log, async (s) => {
        const account = accountJid(rest[0], s);
        const password = values.password ?? (await readPassword(`New password for ${account}: `, true));
        await s.accounts.setPassword(account, password);
        console.log(`password changed for ${account}`);
      });
    case 'deluser':
      return withServer(config, log, async (s) => {
        const account = accountJid(rest[0], s);
        if (!(await s.accounts.remove(account))) throw new NoSuchAccountError(`${account} does not exist`);
        console.log(`deleted ${account}`);
      });
    case 'users':
      return withServer(config, log, async (s) => {
        const host = rest[0];
        if (!host || !s.hosts.has(host.toLowerCase())) throw new UsageError(`users needs one of the served hosts: ${[...s.hosts.keys()].join(', ')}`);
        for (const local of await s.accounts.list(host.toLowerCase())) console.log(`${local}@${host.toLowerCase()}`);
      });
    case 'cert':
      return certCommand(config, log, rest);
    case 'check':
      return checkCommand(config, log);
    default:
      throw new UsageError(`unknown command '${command}'\n\n${USAGE}`);
  }
}

async function start(config: Config, log: Logger): Promise<number> {
  const server = new Server({ config, modules, log });
  await server.start();
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      server.stop().then(
        () => resolve(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    // Renewed certificates (e.g. after certbot) are picked up without a restart.
    process.on('SIGHUP', () => {
      server.certificates?.reload().then(
        () => log.info('certificates reloaded'),
        (err) => log.error({ err }, 'certificate reload failed'),
      );
    });
  });
}

/** Account commands open storage and the hosts' modules (so removal reaches every module), but do not listen. */
async function withServer(config: Config, log: Logger, fn: (server: Server) => Promise<void>): Promise<number> {
  const server = new Server({ config, modules, log: log.child({}, { level: 'warn' }) });
  await server.open();
  try {
    await fn(server);
    return 0;
  } finally {
    await server.stop();
  }
}

function accountJid(arg: string | undefined, server: Server): Jid {
  if (!arg) throw new UsageError('a JID is required, e.g. alice@localhost');
  const j = parseJid(arg);
  if (!j.local || j.resource) throw new UsageError(`'${arg}' is not an account address (user@host)`);
  if (!server.hosts.has(j.domain)) throw new UsageError(`${j.domain} is not served here (hosts: ${[...server.hosts.keys()].join(', ')})`);
  return j;
}

async function bulkAdd(server: Server, file: string): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  let created = 0;
  // A few at a time: PBKDF2 runs in libuv's thread pool.
  const queue = [...lines];
  const worker = async () => {
    for (let line = queue.shift(); line !== undefined; line = queue.shift()) {
      const space = line.indexOf(' ');
      if (space < 0) throw new UsageError(`bad line (expected "JID PASSWORD"): ${line}`);
      await server.accounts.create(accountJid(line.slice(0, space), server), line.slice(space + 1));
      created++;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  console.log(`created ${created} accounts`);
}

function describe(err: unknown): string {
  if (err instanceof ConfigError || err instanceof UsageError || err instanceof AccountExistsError || err instanceof NoSuchAccountError) return err.message;
  if (err instanceof JidError) return `invalid JID: ${err.message}`;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`chorus: ${describe(err)}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
