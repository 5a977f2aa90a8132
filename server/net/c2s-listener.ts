// TCP listeners for client streams: STARTTLS on a plain socket (RFC 6120 §5) or TLS from the
// first byte (XEP-0368).
import * as net from 'node:net';
import * as tls from 'node:tls';
import { SocketStream, type TlsSettings } from '../stream/socket-stream.ts';
import { ClientSession } from '../c2s/client-session.ts';
import type { C2sListenerConfig } from '../config/schema.ts';
import type { C2sServices } from '../c2s/c2s-services.ts';

export interface Listening {
  readonly kind: string;
  readonly address: string;
  readonly port: number;
  /** Stop accepting connections (existing ones are closed by the session layer). */
  close(): Promise<void>;
}

/** The TLS settings to start a handshake with: for a host (STARTTLS knows it), or the default. */
export type TlsSettingsFor = (host?: string) => TlsSettings;

export async function listenC2s(config: C2sListenerConfig, tlsFor: TlsSettingsFor, services: C2sServices, onReload: (fn: () => void) => void): Promise<Listening> {
  const maxElementBytes = services.config.c2s.maxStanzaBytes;
  let server: net.Server;
  // TCP_NODELAY: a stanza is one write and should leave at once. With Nagle's algorithm a write
  // waits while an earlier one is unacknowledged, and a client that answers quickly gets its
  // ACKs delayed by its kernel (40 ms on Linux): the second of two stanzas sent together would
  // be 40 ms late.
  const noDelay = true;
  if (config.tls === 'direct') {
    const tlsServer = tls.createServer({ ...tlsFor(), noDelay }, (socket) => {
      new ClientSession(new SocketStream(socket, { maxElementBytes }), services, false);
    });
    // Renewed certificates apply to new connections without a restart.
    onReload(() => tlsServer.setSecureContext({ ...tlsFor() }));
    server = tlsServer;
    // A failed handshake is the client's problem; it must not reach the process.
    server.on('tlsClientError', (err, socket) => {
      services.log.debug({ err: err.message, remote: socket.remoteAddress }, 'TLS handshake failed');
      socket.destroy();
    });
  } else {
    server = net.createServer({ noDelay }, (socket) => {
      new ClientSession(new SocketStream(socket, { maxElementBytes, tls: tlsFor }), services, config.requireTls);
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening: a failure to listen is the caller's to report (ListenerError), not a log line.
  server.on('error', (err) => services.log.error({ err }, 'c2s listener error'));
  const addr = server.address() as net.AddressInfo;
  return {
    kind: config.tls === 'direct' ? 'c2s-direct-tls' : 'c2s-starttls',
    address: addr.address,
    port: addr.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
