// `chorus check`: the configuration is valid (loading it proved that), each host's certificate
// is usable, and these are the DNS records an operator must publish.
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { checkCertificate } from '../tls/check-certificate.ts';
import { storedCertificatePaths } from '../tls/certificate-files.ts';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../log.ts';

export async function checkCommand(config: Config, _log: Logger): Promise<number> {
  let problems = 0;
  console.log(`configuration: valid (${config.hosts.length} host${config.hosts.length > 1 ? 's' : ''}, storage ${config.storage.kind})`);
  const dataDir = resolve(config.dataDir);
  for (const host of config.hosts) {
    const paths = host.certificate ?? storedCertificatePaths(dataDir, host.domain);
    if (!host.certificate && !existsSync(paths.cert)) {
      console.log(`${host.domain}: no certificate yet; a self-signed one is generated at first start (or run 'chorus cert import DIR')`);
      continue;
    }
    const result = checkCertificate(host.domain, { cert: paths.cert, key: paths.key }, { serviceNames: host.serviceNames });
    const status = result.ok ? 'ok' : 'PROBLEM';
    console.log(`${host.domain}: certificate ${status}${result.selfSigned ? ' (self-signed: clients will warn)' : ''}`);
    if (result.notAfter) console.log(`  valid until ${result.notAfter.toISOString()}; names: ${result.names.join(', ')}`);
    if (result.fingerprint) console.log(`  SHA-256 fingerprint ${result.fingerprint}`);
    for (const p of result.problems) console.log(`  problem: ${p}`);
    for (const w of result.warnings) console.log(`  warning: ${w}`);
    if (!result.ok) problems++;
  }
  console.log('\nDNS records to publish (replace 203.0.113.10 with this server\'s public address):');
  for (const line of dnsRecords(config)) console.log(`  ${line}`);
  return problems === 0 ? 0 : 1;
}

/** RFC 6120 §3.2.1 (SRV), XEP-0368 (direct TLS SRV) and the A record for each host. */
export function dnsRecords(config: Config, address = '203.0.113.10'): string[] {
  const lines: string[] = [];
  const starttls = config.listeners.find((l) => l.type === 'c2s' && l.tls === 'starttls');
  const direct = config.listeners.find((l) => l.type === 'c2s' && l.tls === 'direct');
  for (const { domain } of config.hosts) {
    if (starttls) lines.push(`_xmpp-client._tcp.${domain}. 3600 IN SRV 5 0 ${starttls.port} ${domain}.`);
    if (direct) lines.push(`_xmpps-client._tcp.${domain}. 3600 IN SRV 4 0 ${direct.port} ${domain}.`);
    lines.push(`${domain}. 3600 IN A ${address}`);
  }
  return lines;
}
