// XEP-0156: how clients discover the WebSocket endpoint (host-meta in XRD and JSON form).
import type { IncomingMessage } from 'node:http';
import { escapeXML } from '../xml/element.ts';
import type { HttpListenerConfig } from '../config/schema.ts';

export const REL_WEBSOCKET = 'urn:xmpp:alt-connections:websocket';

/** The public WebSocket URL: from `publicUrl` when set, else from the request's Host header. */
export function websocketUrl(config: HttpListenerConfig, req: IncomingMessage): string {
  if (config.publicUrl) {
    const base = new URL(config.publicUrl);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.pathname = base.pathname.replace(/\/$/, '') + config.websocketPath;
    return base.toString();
  }
  const secure = config.tls || config.secureProxy;
  const host = sanitizeHost(req.headers.host) ?? `localhost:${req.socket.localPort}`;
  return `${secure ? 'wss' : 'ws'}://${host}${config.websocketPath}`;
}

/** A Host header is client input: accept only host[:port] characters. */
function sanitizeHost(value: string | undefined): string | undefined {
  return value && /^[A-Za-z0-9.\-\[\]:]{1,300}$/.test(value) ? value : undefined;
}

export function hostMetaXrd(wsUrl: string): string {
  return (
    "<?xml version='1.0' encoding='utf-8'?>\n" +
    "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n" +
    `  <Link rel='${REL_WEBSOCKET}' href='${escapeXML(wsUrl)}'/>\n` +
    '</XRD>\n'
  );
}

export function hostMetaJson(wsUrl: string): string {
  return JSON.stringify({ links: [{ rel: REL_WEBSOCKET, href: wsUrl }] });
}
