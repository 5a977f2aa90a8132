// Real TLS listeners on 127.0.0.1:0, both ways Chorus accepts TLS: a direct-TLS server
// (tls.createServer) and a plain TCP server whose sockets are upgraded in place, as STARTTLS does.
import net from 'node:net';
import tls from 'node:tls';

export type ListenerKind = 'direct' | 'starttls';

export interface TlsListener {
  kind: ListenerKind;
  port: number;
  /** The next server-side socket whose handshake completed. */
  nextSecure(): Promise<tls.TLSSocket>;
  /** The next handshake the server failed. */
  nextFailure(): Promise<Error>;
  /** tls.Server of a direct listener (for setSecureContext after a reload). */
  tlsServer: tls.Server | undefined;
  close(): Promise<void>;
}

/** A queue that hands values to waiters in order, whichever comes first. */
class Queue<T> {
  readonly #values: T[] = [];
  readonly #waiters: ((v: T) => void)[] = [];
  push(value: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(value);
    else this.#values.push(value);
  }
  next(): Promise<T> {
    const value = this.#values.shift();
    if (value !== undefined) return Promise.resolve(value);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

export async function listenTls(kind: ListenerKind, options: () => tls.TlsOptions): Promise<TlsListener> {
  const secure = new Queue<tls.TLSSocket>();
  const failures = new Queue<Error>();
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  let server: net.Server;
  let tlsServer: tls.Server | undefined;
  if (kind === 'direct') {
    tlsServer = tls.createServer(options(), (s) => secure.push(s));
    tlsServer.on('connection', track);
    tlsServer.on('tlsClientError', (err) => failures.push(err));
    server = tlsServer;
  } else {
    server = net.createServer((plain) => {
      track(plain);
      const s = new tls.TLSSocket(plain, { isServer: true, ...options() });
      s.on('secure', () => secure.push(s));
      s.on('error', (err) => {
        failures.push(err);
        s.destroy();
      });
    });
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    kind,
    port,
    nextSecure: () => secure.next(),
    nextFailure: () => failures.next(),
    tlsServer,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Clients opened by `connectTls`, destroyed by `closeClients` (call it in afterEach). */
const clients = new Set<tls.TLSSocket>();

const sessions = new WeakMap<tls.TLSSocket, Promise<Buffer>>();

export function connectTls(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    clients.add(socket);
    // A TLS 1.3 ticket can arrive together with the end of the handshake: listen from the start.
    sessions.set(socket, new Promise((resolveSession) => socket.once('session', resolveSession)));
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

export function closeClients(): void {
  for (const c of clients) c.destroy();
  clients.clear();
}

/** The first session (TLS 1.3 ticket) the server gave a client of `connectTls`. */
export function sessionOf(socket: tls.TLSSocket): Promise<Buffer> {
  return sessions.get(socket)!;
}
