// The storage contract on the embedded adapter with its files in a fresh temporary directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../server/storage/open-store.ts';
import { storeContract } from './contract.ts';

describe('storage contract: embedded, on disk', () => {
  storeContract({
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'chorus-store-'));
      return {
        store: await openStore({ kind: 'embedded', dir }),
        reopen: () => openStore({ kind: 'embedded', dir }),
        dispose: () => rm(dir, { recursive: true, force: true }),
      };
    },
    persistent: true,
    ttlExpiry: 'prompt',
  });
});
