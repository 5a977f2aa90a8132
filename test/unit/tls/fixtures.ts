// Shared by the TLS tests: temporary data directories and a logger whose records can be read.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from '../../../server/log.ts';
import type { PemPair } from '../../../server/tls/self-signed.ts';

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'chorus-tls-test-'));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export const INFO = 30;
export const WARN = 40;

/** A real pino logger writing JSON lines into `records`. */
export function captureLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => { records.push(JSON.parse(line) as LogRecord); } });
  return { log, records };
}

/** Write a pair under arbitrary names (for explicit paths and broken layouts). */
export async function writePair(dir: string, pair: PemPair, names = { cert: 'cert.pem', key: 'key.pem' }): Promise<{ cert: string; key: string }> {
  const paths = { cert: join(dir, names.cert), key: join(dir, names.key) };
  await writeFile(paths.cert, pair.cert);
  await writeFile(paths.key, pair.key, { mode: 0o600 });
  return paths;
}
