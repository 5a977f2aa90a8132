// One HTTP(S) listener: the XMPP WebSocket endpoint (RFC 7395), host-meta (XEP-0156), the
// web client and module routes.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { WebSocketServer } from 'ws';
import { WebSocketStream } from '../stream/websocket-stream.ts';
import { plainAddress } from './address-block.ts';
import { ClientSession } from '../c2s/client-session.ts';
import { hostMetaJson, hostMetaXrd, websocketUrl } from './host-meta.ts';
import type { HttpRouter } from './http-router.ts';
import type { HttpListenerConfig } from '../config/schema.ts';
import type { C2sServices } from '../c2s/c2s-services.ts';
import type { TlsSettings } from '../stream/socket-stream.ts';
import type { Listening } from './c2s-listener.ts';

export interface HttpListenerDeps {
  router: HttpRouter;
  tls: TlsSettings;
  services: C2sServices;
  onReload: (fn: () => void) => void;
}

export async function listenHttp(config: HttpListenerConfig, deps: HttpListenerDeps): Promise<Listening> {
  const { router, services } = deps;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = pathOf(req.url);
    if (path === '/.well-known/host-meta' || path === '/.well-known/host-meta.json') {
      return serveHostMeta(config, req, res, path.endsWith('.json'));
    }
    const handler = path === null ? undefined : router.find(req.method ?? 'GET', path);
    if (!handler || path === null) {
      const known = path !== null && router.knows(path);
      res.writeHead(known ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(known ? 'method not allowed\n' : 'not found\n');
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res, path))
      .catch((err) => {
        services.log.error({ err, path }, 'HTTP handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
  };
  let server: http.Server | https.Server;
  if (config.tls) {
    const secure = https.createServer({ ...deps.tls }, onRequest);
    deps.onReload(() => secure.setSecureContext({ ...deps.tls }));
    server = secure;
  } else {
    server = http.createServer(onRequest);
  }

  // RFC 7395 §3.2: the 'xmpp' subprotocol is required; one XML element per message, so a
  // message can be no larger than the stanza limit (plus room for the framing element).
  const maxElementBytes = services.config.c2s.maxStanzaBytes;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxElementBytes + 1024,
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const path = pathOf(req.url);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (path !== config.websocketPath || !offered.includes('xmpp')) {
      socket.end(`HTTP/1.1 ${path !== config.websocketPath ? '404 Not Found' : '400 Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const secure = config.tls || config.secureProxy;
      const stream = new WebSocketStream(ws, plainAddress(req.socket.remoteAddress ?? ''), secure, maxElementBytes);
      new ClientSession(stream, services, false);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => services.log.error({ err }, 'HTTP listener error'));
  const addr = server.address() as net.AddressInfo;
  return {
    kind: config.tls ? 'https' : 'http',
    address: addr.address,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        wss.close();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function serveHostMeta(config: HttpListenerConfig, req: http.IncomingMessage, res: http.ServerResponse, json: boolean): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    res.end();
    return;
  }
  const url = websocketUrl(config, req);
  const body = json ? hostMetaJson(url) : hostMetaXrd(url);
  res.writeHead(200, {
    'content-type': json ? 'application/json' : 'application/xrd+xml; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    // XEP-0156 §3: browsers on other origins must be able to read it.
    'access-control-allow-origin': '*',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function pathOf(url: string | undefined): string | null {
  if (!url) return null;
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  return path.startsWith('/') ? path : null;
}
