// GET /metrics: the Prometheus text exposition, answered only to the configured client
// addresses (loopback by default). Everyone else gets 403: the path is no secret, and a plain
// refusal tells an operator who scrapes from the wrong address what is wrong.
import { addressFilter } from './address-block.ts';
import type { HttpHandler } from './http-router.ts';
import type { ServerMetrics } from '../metrics.ts';

/**
 * The address the request came from is the TCP peer's: a reverse proxy on loopback would make
 * every request look local, so a request that says it was forwarded is refused as well
 * (Prometheus scrapes the listener directly; docs/metrics.md).
 */
export function metricsHandler(metrics: ServerMetrics, allowFrom: readonly string[]): HttpHandler {
  const mayScrape = addressFilter(allowFrom);
  return async (req, res) => {
    if (!mayScrape(req.socket.remoteAddress) || req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('forbidden\n');
      return;
    }
    const body = await metrics.scrape();
    res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
