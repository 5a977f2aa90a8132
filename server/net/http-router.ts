// The one HTTP server's routes (WebSocket upgrade, host-meta, web client, module routes).
// node:http with this small exact-path router: Chorus serves a handful of fixed paths, so a
// framework would add weight without removing code (docs/architecture.md).
import type { IncomingMessage, ServerResponse } from 'node:http';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>;

interface Route {
  handler: HttpHandler;
  owner: string;
}

export class HttpRouteConflictError extends Error {}

export class HttpRouter {
  // Exact paths, and prefixes (registered with a trailing '*') for trees such as uploads.
  private readonly exact = new Map<string, Route>();
  private readonly prefixes: { method: string; prefix: string; route: Route }[] = [];

  route(method: string, path: string, handler: HttpHandler, owner: string): () => void {
    const route: Route = { handler, owner };
    if (path.endsWith('*')) {
      const prefix = path.slice(0, -1);
      if (this.prefixes.some((p) => p.method === method && p.prefix === prefix)) {
        throw new HttpRouteConflictError(`${method} ${path} is already routed`);
      }
      const entry = { method, prefix, route };
      this.prefixes.push(entry);
      this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
      return () => {
        const i = this.prefixes.indexOf(entry);
        if (i >= 0) this.prefixes.splice(i, 1);
      };
    }
    const key = `${method} ${path}`;
    const existing = this.exact.get(key);
    if (existing) throw new HttpRouteConflictError(`${key} is claimed by both '${existing.owner}' and '${owner}'`);
    this.exact.set(key, route);
    return () => {
      if (this.exact.get(key) === route) this.exact.delete(key);
    };
  }

  /** The handler for a request, or undefined (404/405 decided by the caller). */
  find(method: string, path: string): HttpHandler | undefined {
    const lookup = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
    for (const m of lookup) {
      const hit = this.exact.get(`${m} ${path}`);
      if (hit) return hit.handler;
      for (const p of this.prefixes) if (p.method === m && path.startsWith(p.prefix)) return p.route.handler;
    }
    return undefined;
  }

  /** Whether any method is routed at this path (to answer 405 rather than 404). */
  knows(path: string): boolean {
    for (const key of this.exact.keys()) if (key.slice(key.indexOf(' ') + 1) === path) return true;
    return this.prefixes.some((p) => path.startsWith(p.prefix));
  }
}
