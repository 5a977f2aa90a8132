// Opens the configured storage adapter (DESIGN.md "Storage port").
import { silentLogger, type Logger } from '../log.ts';
import type { Store } from './port.ts';
import { openEmbeddedStore } from './embedded.ts';

export type StoreConfig =
  | { kind: 'embedded'; dir: string; compactionIntervalMs?: number; ttlSweepIntervalMs?: number }
  | { kind: 'embedded'; inMemory: true; ttlSweepIntervalMs?: number }
  | { kind: 'mongodb'; uri: string; database?: string };

export async function openStore(config: StoreConfig, log: Logger = silentLogger): Promise<Store> {
  if (config.kind === 'mongodb') {
    // Loaded only when configured: the driver takes longer to load than the rest of the server.
    const { openMongoStore } = await import('./mongodb.ts');
    const store = await openMongoStore({ uri: config.uri, database: config.database, log });
    log.info({ database: store.db.databaseName }, 'storage: mongodb');
    return store;
  }
  if ('inMemory' in config) {
    return openEmbeddedStore({ inMemory: true, ttlSweepIntervalMs: config.ttlSweepIntervalMs, log });
  }
  const store = await openEmbeddedStore({
    dir: config.dir,
    compactionIntervalMs: config.compactionIntervalMs,
    ttlSweepIntervalMs: config.ttlSweepIntervalMs,
    log,
  });
  log.info({ dir: config.dir }, 'storage: embedded');
  return store;
}
