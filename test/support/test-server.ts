// Starts a real Chorus server in this process on ephemeral ports of 127.0.0.1, with the test
// certificate, and gives tests its ports and a way to create accounts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from '../../server/server.ts';
import { validateConfig, applyEnvOverrides } from '../../server/config/load-config.ts';
import { createLogger, silentLogger } from '../../server/log.ts';
import { openStore } from '../../server/storage/open-store.ts';
import { jid, type Jid } from '../../server/jid.ts';
import { modules } from '../../xep/index.ts';
import { testCertificate, TEST_DOMAINS } from './test-certificate.ts';

export interface TestServerOptions {
  /** Extra configuration merged over the test defaults (top-level keys replace). */
  config?: Record<string, unknown>;
  /** 'memory' (default) or 'disk' (data kept in dataDir, e.g. to test restarts). */
  storage?: 'memory' | 'disk';
  /** Reuse a data directory (restart tests). */
  dataDir?: string;
}

export interface TestServer {
  server: Server;
  domain: string;
  dataDir: string;
  c2sPort: number;
  directTlsPort: number;
  httpPort: number;
  addUser(local: string, password: string, domain?: string): Promise<Jid>;
  /** Stop the server; the data directory is removed unless `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const cert = testCertificate();
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'chorus-test-')));
  const raw = {
    dataDir,
    log: { level: process.env.CHORUS_TEST_LOG ?? 'silent' },
    hosts: TEST_DOMAINS.map((domain) => ({ domain, certificate: { cert: cert.certFile, key: cert.keyFile } })),
    listeners: [
      { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'starttls' },
      { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'direct' },
      { type: 'http', address: '127.0.0.1', port: 0 },
    ],
    shutdownGraceSeconds: 1,
    ...opts.config,
  };
  const config = validateConfig(applyEnvOverrides(raw, {}), modules);
  const log = process.env.CHORUS_TEST_LOG ? createLogger(config.log.level, { pretty: true }) : silentLogger;
  const store = opts.storage === 'disk' ? undefined : await openStore({ kind: 'embedded', inMemory: true }, log);
  const server = new Server({ config, modules, log, store });
  await server.start();
  const portOf = (kind: Parameters<Server['port']>[0]) => {
    try {
      return server.port(kind);
    } catch {
      return 0;
    }
  };
  return {
    server,
    domain: TEST_DOMAINS[0]!,
    dataDir,
    c2sPort: portOf('c2s-starttls'),
    directTlsPort: portOf('c2s-direct-tls'),
    httpPort: portOf('http'),
    async addUser(local, password, domain = TEST_DOMAINS[0]!) {
      const account = jid(local, domain);
      await server.accounts.create(account, password);
      return account;
    },
    async stop({ keepData = false } = {}) {
      await server.stop();
      if (!keepData && !opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
