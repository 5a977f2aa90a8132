// One self-signed certificate for every test server of a run (generating one per server would
// only cost time). Test clients trust it explicitly: TLS verification stays on in tests, so a
// certificate that did not cover the host would fail them.
import tls from 'node:tls';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCertificate } from '../../server/tls/self-signed.ts';

export const TEST_DOMAINS = ['localhost', 'example.test'];

export interface TestCertificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

let cached: TestCertificate | null = null;

export function testCertificate(): TestCertificate {
  if (cached) return cached;
  const pair = createSelfSignedCertificate({ names: [...TEST_DOMAINS, ...TEST_DOMAINS.map((d) => `*.${d}`)] });
  const dir = mkdtempSync(join(tmpdir(), 'chorus-test-cert-'));
  const certFile = join(dir, 'fullchain.pem');
  const keyFile = join(dir, 'privkey.pem');
  writeFileSync(certFile, pair.cert);
  writeFileSync(keyFile, pair.key, { mode: 0o600 });
  cached = { ...pair, certFile, keyFile };
  trustInThisProcess(pair.cert);
  return cached;
}

/**
 * Test clients (@xmpp/client, raw sockets) call tls.connect without a CA option; make the test
 * certificate a trusted root for them, next to the system roots.
 */
function trustInThisProcess(certPem: string): void {
  const original = tls.connect;
  const ca = [...tls.rootCertificates, certPem];
  const patched = ((...args: Parameters<typeof tls.connect>) => {
    const [first] = args;
    if (first && typeof first === 'object' && !('ca' in first && (first as tls.ConnectionOptions).ca)) {
      (first as tls.ConnectionOptions).ca = ca;
    }
    return original(...args);
  }) as typeof tls.connect;
  (tls as { connect: typeof tls.connect }).connect = patched;
}
