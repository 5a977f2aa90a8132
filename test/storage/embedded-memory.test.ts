// The storage contract on the embedded adapter, in memory (what most other tests use).
import { openStore } from '../../server/storage/open-store.ts';
import { storeContract } from './contract.ts';

describe('storage contract: embedded, in memory', () => {
  storeContract({
    open: async () => ({ store: await openStore({ kind: 'embedded', inMemory: true }), dispose: async () => {} }),
    persistent: { skip: 'an in-memory store keeps nothing after close' },
    ttlExpiry: 'prompt',
  });
});
