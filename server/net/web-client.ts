// Serves the built web client (client/dist) as static files; until it is built, a short
// page that says how to connect. Paths are resolved inside the root only.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeXML } from '../xml/element.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

export function webClientHandler(root: string, placeholder: () => string) {
  const base = resolve(root);
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const rel = path === '/' ? 'index.html' : decodeURIComponent(path.slice(1));
    const file = normalize(join(base, rel));
    if (file !== base && !file.startsWith(base + sep)) return notFound(res);
    try {
      const info = await stat(file);
      if (!info.isFile()) return notFound(res);
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'content-length': body.length,
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'",
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      if (path === '/') {
        const html = placeholder();
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
        res.end(req.method === 'HEAD' ? undefined : html);
        return;
      }
      notFound(res);
    }
  };
}

export function placeholderPage(domains: string[], wsUrl: string): string {
  const hosts = domains.map((d) => `<li>${escapeXML(d)}</li>`).join('');
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>Chorus</title>
<body><h1>Chorus XMPP server</h1><p>The web client is not built yet. Connect any XMPP client to one of these domains:</p><ul>${hosts}</ul>
<p>WebSocket endpoint (RFC 7395): <code>${escapeXML(wsUrl)}</code></p></body></html>`;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('not found\n');
}
