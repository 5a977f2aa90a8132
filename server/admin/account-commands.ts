// The account commands of the `chorus` CLI, run inside whichever process owns the storage:
// the running server (asked over the admin socket) or the CLI itself when no server runs.
import { parseJid, JidError, type Jid } from '../jid.ts';
import { AccountExistsError, NoSuchAccountError } from '../accounts.ts';
import type { Server } from '../server.ts';

export type AdminRequest =
  | { cmd: 'adduser'; jid: string; password: string }
  | { cmd: 'passwd'; jid: string; password: string }
  | { cmd: 'deluser'; jid: string }
  | { cmd: 'users'; host: string }
  /** Not an account command: what `chorus check` asks a running server (its pid, then one line per listener). */
  | { cmd: 'status' };

export type AdminReply = { ok: true; lines: string[] } | { ok: false; error: string; usage: boolean };

/** A mistake in the request itself (exit code 2), as opposed to a refusal (exit code 1). */
export class AdminUsageError extends Error {}

export async function runAccountCommand(server: Server, req: AdminRequest): Promise<AdminReply> {
  try {
    return { ok: true, lines: await run(server, req) };
  } catch (err) {
    if (err instanceof AdminUsageError || err instanceof JidError) return { ok: false, error: describe(err), usage: true };
    if (err instanceof AccountExistsError || err instanceof NoSuchAccountError) return { ok: false, error: err.message, usage: false };
    throw err;
  }
}

async function run(server: Server, req: AdminRequest): Promise<string[]> {
  switch (req.cmd) {
    case 'adduser': {
      const account = accountJid(req.jid, server);
      await server.accounts.create(account, checkPassword(req.password));
      return [`created ${account}`];
    }
    case 'passwd': {
      const account = accountJid(req.jid, server);
      await server.accounts.setPassword(account, checkPassword(req.password));
      return [`password changed for ${account}`];
    }
    case 'deluser': {
      const account = accountJid(req.jid, server);
      if (!(await server.accounts.remove(account))) throw new NoSuchAccountError(`${account} does not exist`);
      return [`deleted ${account}`];
    }
    case 'users': {
      const host = (req.host ?? '').toLowerCase();
      if (!server.hosts.has(host)) throw new AdminUsageError(`users needs one of the served hosts: ${[...server.hosts.keys()].join(', ')}`);
      return (await server.accounts.list(host)).map((local) => `${local}@${host}`);
    }
    case 'status':
      return [`pid ${process.pid}`, ...server.listeners.map((l) => `listening ${l.kind} ${l.address} ${l.port}`)];
    default:
      throw new AdminUsageError(`unknown command ${(req as { cmd?: unknown }).cmd}`);
  }
}

function accountJid(arg: string | undefined, server: Server): Jid {
  if (!arg) throw new AdminUsageError('a JID is required, e.g. alice@localhost');
  const j = parseJid(arg);
  if (!j.local || j.resource) throw new AdminUsageError(`'${arg}' is not an account address (user@host)`);
  if (!server.hosts.has(j.domain)) throw new AdminUsageError(`${j.domain} is not served here (hosts: ${[...server.hosts.keys()].join(', ')})`);
  return j;
}

function checkPassword(password: string | undefined): string {
  if (typeof password !== 'string' || password === '') throw new AdminUsageError('the password must not be empty');
  return password;
}

function describe(err: Error): string {
  return err instanceof JidError ? `invalid JID: ${err.message}` : err.message;
}
