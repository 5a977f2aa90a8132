// XEP-0156 discovery of the WebSocket endpoint: /.well-known/host-meta (XRD, RFC 6415) and
// host-meta.json, the URL they advertise (from publicUrl, else the request's Host header) and
// that client input in the Host header never reaches the document unchecked.
import { expect } from 'chai';
import * as net from 'node:net';
import { startTestServer, type TestServer } from '../../support/test-server.ts';
import { parseStandaloneElement, tryHandshake, WsClient } from '../../support/ws-client.ts';

const NS_XRD = 'http://docs.oasis-open.org/ns/xri/xrd-1.0';
const REL_WEBSOCKET = 'urn:xmpp:alt-connections:websocket';

interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte, so a test controls the Host header exactly
 * (fetch and http.request normalise or refuse unusual values).
 */
function rawRequest(port: number, head: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const colon = l.indexOf(':');
        headers[l.slice(0, colon).trim().toLowerCase()] = l.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
    socket.write(head.endsWith('\r\n\r\n') ? head : `${head}\r\nconnection: close\r\n\r\n`);
  });
}

/** The single websocket Link of an XRD document, checked for shape on the way. */
function xrdWebsocketHref(body: string): string {
  const xrd = parseStandaloneElement(body.replace(/^<\?xml[^?]*\?>\s*/, ''));
  expect(xrd.name).to.equal('XRD');
  expect(xrd.attrs.xmlns).to.equal(NS_XRD);
  const links = xrd.getChildren('Link').filter((l) => l.attrs.rel === REL_WEBSOCKET);
  expect(xrd.getChildElements()).to.have.length(1);
  expect(links).to.have.length(1);
  return links[0]!.attrs.href!;
}

function jsonWebsocketHref(body: string): string {
  const doc = JSON.parse(body) as { links: { rel: string; href: string }[] };
  const links = doc.links.filter((l) => l.rel === REL_WEBSOCKET);
  expect(links).to.have.length(1);
  return links[0]!.href;
}

describe('host-meta (XEP-0156)', function () {
  describe('without publicUrl', () => {
    let t: TestServer;
    let base: string;
    before(async () => {
      t = await startTestServer();
      base = `http://127.0.0.1:${t.httpPort}`;
    });
    after(() => t.stop());

    it('serves the XRD with the websocket Link built from the Host header, readable cross-origin', async () => {
      const res = await fetch(`${base}/.well-known/host-meta`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/xrd\+xml\b/);
      // XEP-0156 §3: web clients on other origins must be able to read it.
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
      const body = await res.text();
      expect(body.startsWith('<?xml')).to.equal(true);
      expect(xrdWebsocketHref(body)).to.equal(`ws://127.0.0.1:${t.httpPort}/xmpp-websocket`);
    });

    it('serves the JSON form with the same link', async () => {
      const res = await fetch(`${base}/.well-known/host-meta.json`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json\b/);
      expect(res.headers.get('access-control-allow-origin')).to.equal('*');
      expect(jsonWebsocketHref(await res.text())).to.equal(`ws://127.0.0.1:${t.httpPort}/xmpp-websocket`);
    });

    it('the advertised URL is a working XMPP WebSocket endpoint', async () => {
      const href = jsonWebsocketHref(await (await fetch(`${base}/.well-known/host-meta.json`)).text());
      const c = await WsClient.connect(href);
      try {
        const { open } = await c.open();
        expect(open.attrs.from).to.equal('localhost');
      } finally {
        c.terminate();
      }
    });

    it('follows the Host the client used, port included', async () => {
      const res = await rawRequest(t.httpPort, `GET /.well-known/host-meta.json HTTP/1.1\r\nHost: chat.example.org:8443`);
      expect(jsonWebsocketHref(res.body)).to.equal('ws://chat.example.org:8443/xmpp-websocket');
    });

    it('does not reflect a Host header carrying markup, quotes or a path', async () => {
      const fallback = `ws://localhost:${t.httpPort}/xmpp-websocket`;
      for (const host of [
        `evil.example'/><Link rel='${REL_WEBSOCKET}' href='wss://evil.example/`,
        'evil.example"><script>alert(1)</script>',
        'evil.example/steal?x=',
        'user@evil.example',
        'evil.example\\@good.example',
      ]) {
        const xrd = await rawRequest(t.httpPort, `GET /.well-known/host-meta HTTP/1.1\r\nHost: ${host}`);
        expect(xrd.status, host).to.equal(200);
        expect(xrd.body, host).to.not.include('evil');
        expect(xrdWebsocketHref(xrd.body), host).to.equal(fallback);
        const json = await rawRequest(t.httpPort, `GET /.well-known/host-meta.json HTTP/1.1\r\nHost: ${host}`);
        expect(json.body, host).to.not.include('evil');
        expect(jsonWebsocketHref(json.body), host).to.equal(fallback);
      }
    });

    it('answers HEAD without a body and refuses other methods with 405', async () => {
      const head = await fetch(`${base}/.well-known/host-meta`, { method: 'HEAD' });
      expect(head.status).to.equal(200);
      expect(await head.text()).to.equal('');
      const post = await fetch(`${base}/.well-known/host-meta`, { method: 'POST', body: 'x' });
      expect(post.status).to.equal(405);
      expect(post.headers.get('allow')).to.include('GET');
    });

    it('ignores a query string', async () => {
      const res = await fetch(`${base}/.well-known/host-meta.json?rel=${encodeURIComponent(REL_WEBSOCKET)}`);
      expect(res.status).to.equal(200);
      expect(jsonWebsocketHref(await res.text())).to.equal(`ws://127.0.0.1:${t.httpPort}/xmpp-websocket`);
    });
  });

  describe('with publicUrl', () => {
    it('derives the URL from publicUrl (https → wss) whatever the Host header says', async () => {
      const t = await startTestServer({
        config: { listeners: [{ type: 'http', address: '127.0.0.1', port: 0, publicUrl: 'https://xmpp.example.org' }] },
      });
      try {
        const res = await rawRequest(t.httpPort, `GET /.well-known/host-meta HTTP/1.1\r\nHost: other.example`);
        expect(xrdWebsocketHref(res.body)).to.equal('wss://xmpp.example.org/xmpp-websocket');
        const json = await rawRequest(t.httpPort, `GET /.well-known/host-meta.json HTTP/1.1\r\nHost: other.example`);
        expect(jsonWebsocketHref(json.body)).to.equal('wss://xmpp.example.org/xmpp-websocket');
      } finally {
        await t.stop();
      }
    });

    it('keeps the base path and port of publicUrl and appends a custom websocketPath (http → ws)', async () => {
      const t = await startTestServer({
        config: {
          listeners: [{ type: 'http', address: '127.0.0.1', port: 0, publicUrl: 'http://example.org:8080/chat/', websocketPath: '/ws' }],
        },
      });
      try {
        const res = await fetch(`http://127.0.0.1:${t.httpPort}/.well-known/host-meta.json`);
        expect(jsonWebsocketHref(await res.text())).to.equal('ws://example.org:8080/chat/ws');
        // The custom path is where the endpoint really is.
        expect(await tryHandshake(`ws://127.0.0.1:${t.httpPort}/ws`, 'xmpp')).to.deep.equal({ status: 101, protocol: 'xmpp' });
        expect((await tryHandshake(`ws://127.0.0.1:${t.httpPort}/xmpp-websocket`, 'xmpp')).status).to.equal(404);
      } finally {
        await t.stop();
      }
    });
  });

  it('advertises wss:// behind a TLS-terminating proxy (secureProxy)', async () => {
    const t = await startTestServer({ config: { listeners: [{ type: 'http', address: '127.0.0.1', port: 0, secureProxy: true }] } });
    try {
      const res = await rawRequest(t.httpPort, `GET /.well-known/host-meta.json HTTP/1.1\r\nHost: xmpp.example.org`);
      expect(jsonWebsocketHref(res.body)).to.equal('wss://xmpp.example.org/xmpp-websocket');
    } finally {
      await t.stop();
    }
  });
});
