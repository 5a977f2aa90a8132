// The running server's admin socket: a Unix socket in the data directory (mode 0600, so only
// the server's own user reaches it) through which `chorus adduser/passwd/deluser/users` act on
// the live server instead of opening its storage a second time. One JSON request per line, one
// JSON reply per line.
import * as net from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runAccountCommand, type AdminReply, type AdminRequest } from './account-commands.ts';
import type { Server } from '../server.ts';

/** Unix socket paths are limited to about 108 bytes. */
const MAX_SOCKET_PATH = 100;
const MAX_REQUEST_BYTES = 64 * 1024;

export function adminSocketPath(dataDir: string): string {
  return join(dataDir, 'chorus.sock');
}

export class AdminSocketInUseError extends Error {
  constructor(dataDir: string) {
    super(`another Chorus server is running on ${dataDir} (its admin socket answers)`);
  }
}

export interface AdminListener {
  close(): Promise<void>;
}

export async function listenAdmin(server: Server): Promise<AdminListener | null> {
  const path = adminSocketPath(server.dataDir);
  if (path.length > MAX_SOCKET_PATH) {
    server.log.warn({ path }, 'data directory path too long for the admin socket; account commands will refuse while the server runs');
    return null;
  }
  // A socket file left by a process that died is in the way; a live one means another server.
  if (await adminReachable(path)) throw new AdminSocketInUseError(server.dataDir);
  await rm(path, { force: true });
  const listener = net.createServer((socket) => serve(server, socket));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
      }),
  };
}

function serve(server: Server, socket: net.Socket): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_REQUEST_BYTES) return void socket.destroy();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      socket.pause();
      answer(server, line).then((reply) => {
        socket.write(JSON.stringify(reply) + '\n');
        socket.resume();
      });
    }
  });
}

async function answer(server: Server, line: string): Promise<AdminReply> {
  let req: AdminRequest;
  try {
    req = JSON.parse(line) as AdminRequest;
  } catch {
    return { ok: false, error: 'not a JSON request', usage: true };
  }
  try {
    return await runAccountCommand(server, req);
  } catch (err) {
    server.log.error({ err }, 'admin command failed');
    return { ok: false, error: `internal error: ${(err as Error).message}`, usage: false };
  }
}

function adminReachable(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Send requests to a running server. Resolves to null when no server listens on this data
 * directory (the caller then opens the storage itself).
 */
export async function askRunningServer(dataDir: string, requests: AdminRequest[]): Promise<AdminReply[] | null> {
  const path = adminSocketPath(dataDir);
  const socket = await new Promise<net.Socket | null>((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(null));
  });
  if (!socket) return null;
  socket.setEncoding('utf8');
  const replies: AdminReply[] = [];
  let buffer = '';
  return new Promise<AdminReply[]>((resolve, reject) => {
    const sendNext = () => {
      if (replies.length === requests.length) {
        socket.end();
        return resolve(replies);
      }
      socket.write(JSON.stringify(requests[replies.length]) + '\n');
    };
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buffer.slice(0, nl)) as AdminReply);
        buffer = buffer.slice(nl + 1);
        sendNext();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (replies.length < requests.length) reject(new Error('the server closed the admin connection'));
    });
    sendNext();
  });
}
