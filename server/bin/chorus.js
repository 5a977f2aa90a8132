#!/usr/bin/env node
// The package's `chorus` command: runs the compiled CLI. `npm ci` builds it (the `prepare`
// script); after changing the sources, `npm run build`.
import { existsSync } from 'node:fs';

const main = new URL('../../build/server/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('chorus: the server is not built yet; run `npm run build` (or `npm ci`) in the project directory');
  process.exit(1);
}
await import(main.href);
