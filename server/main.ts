// The `chorus` command: start | adduser | passwd | deluser | users | cert | check.
// This file is the composition root: the only place in server/ that imports the module list
// from xep/ (docs/architecture.md explains the exception).
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import { modules } from '../xep/index.ts';
import { loadConfigFile, ConfigError, type Config } from './config/load-config.ts';
import { createLogger, type Logger } from './log.ts';
import { Server } from './server.ts';
import { resolve } from 'node:path';
import { JidError } from './jid.ts';
import { runAccountCommand, type AdminRequest } from './admin/account-commands.ts';
import { askRunningServer, AdminSocketInUseError } from './admin/admin-socket.ts';
import { CertificateImportError } from './tls/import-certbot.ts';
import { CertificateFileError } from './tls/certificate-files.ts';
import { readPassword } from './cli/read-password.ts';
import { certCommand } from './cli/cert-command.ts';
import { checkCommand } from './cli/check-command.ts';
import { UsageError, CommandError } from './cli/errors.ts';
import { StoreLockedError } from './storage/directory-lock.ts';
import { newerSource } from './build-freshness.ts';
import { ListenerError } from './net/listener-error.ts';

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
      if (values.bulk) return accountCommand(config, log, await bulkRequests(values.bulk));
      return accountCommand(config, log, [{ cmd: 'adduser', jid: required(rest[0]), password: values.password ?? (await askPassword(`Password for ${rest[0]}: `)) }]);
    case 'passwd':
      return accountCommand(config, log, [{ cmd: 'passwd', jid: required(rest[0]), password: values.password ?? (await askPassword(`New password for ${rest[0]}: `)) }]);
    case 'deluser':
      return accountCommand(config, log, [{ cmd: 'deluser', jid: required(rest[0]) }]);
    case 'users':
      return accountCommand(config, log, [{ cmd: 'users', host: required(rest[0], 'users needs a host, e.g. localhost') }]);
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
  newerSource().then(
    (file) => file && log.warn({ file }, 'the sources changed after the last build: this runs the old code; run `npm run build`'),
    () => {},
  );
  return new Promise<number>((resolve) => {
    const signals: NodeJS.Signals[] = [];
    const onSignal = (signal: NodeJS.Signals) => {
      signals.push(signal);
      // Ctrl-C under `npm start` arrives twice at once: from the terminal (to the whole process
      // group) and forwarded by npm. So a second signal never cuts the shutdown short; a third
      // (Ctrl-C pressed again), or the deadline below, forces the exit.
      if (signals.length === 1) return shutdown(signal);
      if (signals.length === 2) return void log.info({ signal }, 'already shutting down (a third signal forces the exit)');
      forceExit(`${signal} during shutdown`, 128 + (os.constants.signals[signal] ?? 0));
    };
    const forceExit = (reason: string, code: number) => {
      log.warn({ reason }, 'exiting before the shutdown finished');
      process.exit(code);
    };
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      const deadline = config.shutdownGraceSeconds * 1000 + SHUTDOWN_DEADLINE_MARGIN_MS;
      setTimeout(() => forceExit(`the shutdown took longer than ${deadline} ms`, 1), deadline).unref();
      server.stop().then(
        () => resolve(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Renewed certificates (e.g. after certbot) are picked up without a restart.
    process.on('SIGHUP', () => {
      server.certificates?.reload().then(
        () => log.info('certificates reloaded'),
        (err) => log.error({ err }, 'certificate reload failed'),
      );
    });
  });
}

/** Beyond the streams' grace period, what stopping modules and flushing storage may take. */
const SHUTDOWN_DEADLINE_MARGIN_MS = 15_000;

/**
 * Account commands run where the storage is owned: in the running server when there is one
 * (over its admin socket), else here, opening storage and the hosts' modules (so a removal
 * reaches every module) without listening.
 */
async function accountCommand(config: Config, log: Logger, requests: AdminRequest[]): Promise<number> {
  let replies = await askRunningServer(resolve(config.dataDir), requests);
  if (!replies) {
    const server = new Server({ config, modules, log: log.child({}, { level: 'warn' }) });
    await server.open();
    try {
      replies = await runAll(requests, (req) => runAccountCommand(server, req));
    } finally {
      await server.stop();
    }
  }
  const bulk = requests.length > 1;
  let code = 0;
  for (const reply of replies) {
    if (reply.ok) {
      if (!bulk) for (const line of reply.lines) console.log(line);
    } else {
      console.error(`chorus: ${reply.error}`);
      code = Math.max(code, reply.usage ? 2 : 1);
    }
  }
  if (bulk) console.log(`created ${replies.filter((r) => r.ok).length} accounts`);
  return code;
}

/** In order of the requests, a few at a time: account creation waits on PBKDF2 in libuv's thread pool. */
async function runAll<T, R>(items: T[], fn: (item: T) => Promise<R>, concurrency = 4): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

function required(arg: string | undefined, message = 'a JID is required, e.g. alice@localhost'): string {
  if (!arg) throw new UsageError(message);
  return arg;
}

async function askPassword(prompt: string): Promise<string> {
  try {
    return await readPassword(prompt, true);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `adduser --bulk FILE`: one "JID PASSWORD" per line; blank lines and # comments are skipped. */
async function bulkRequests(file: string): Promise<AdminRequest[]> {
  const lines = (await readFile(file, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return lines.map((line) => {
    const space = line.indexOf(' ');
    if (space < 0) throw new UsageError(`bad line in ${file} (expected "JID PASSWORD"): ${line}`);
    return { cmd: 'adduser', jid: line.slice(0, space), password: line.slice(space + 1) };
  });
}

/** Mistakes an operator can act on are one line; anything else is a bug and keeps its stack. */
function describe(err: unknown): string {
  if (err instanceof JidError) return `invalid JID: ${err.message}`;
  const known = [ConfigError, UsageError, CommandError, CertificateImportError, CertificateFileError, StoreLockedError, ListenerError, AdminSocketInUseError];
  if (known.some((k) => err instanceof k)) return (err as Error).message;
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

function isUsageError(err: unknown): boolean {
  // parseArgs reports unknown options and missing values with these codes.
  const code = (err as { code?: string }).code;
  return err instanceof UsageError || code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL';
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`chorus: ${isUsageError(err) ? (err as Error).message : describe(err)}`);
    process.exit(isUsageError(err) ? 2 : 1);
  },
);
