// `chorus check`: the configuration is valid (loading it proved that), the storage, each host's
// certificate, the listeners' ports and the metrics endpoint are usable, and these are the DNS
// records an operator must publish. Exit code 1 when anything is a problem.
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { checkCertificate } from '../tls/check-certificate.ts';
import { storedCertificatePaths } from '../tls/certificate-files.ts';
import { checkListeners, checkMetrics, checkStorage, runningServer, type Finding } from './check-runtime.ts';
import { notPublicReason } from './public-domain.ts';
import type { Config } from '../config/load-config.ts';
import type { Logger } from '../log.ts';

export async function checkCommand(config: Config, _log: Logger): Promise<number> {
  let problems = 0;
  const print = (findings: Finding[]) => {
    for (const f of findings) {
      console.log(f.line);
      if (f.problem) problems++;
    }
  };
  console.log(`configuration: valid (${config.hosts.length} host${config.hosts.length > 1 ? 's' : ''}, storage ${config.storage.kind})`);
  const dataDir = resolve(config.dataDir);
  const running = await runningServer(dataDir);
  if (running) console.log(`a Chorus server is running on ${dataDir} (pid ${running.pid})`);
  print([await checkStorage(config, dataDir, running)]);

  console.log('\ncertificates:');
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
    // Clients show one or the other (profanity 0.13: SHA-1).
    if (result.fingerprint) console.log(`  SHA-256 fingerprint ${result.fingerprint}`);
    if (result.fingerprintSha1) console.log(`  SHA-1 fingerprint   ${result.fingerprintSha1}`);
    for (const p of result.problems) console.log(`  problem: ${p}`);
    for (const w of result.warnings) console.log(`  warning: ${w}`);
    if (!result.ok) problems++;
  }

  console.log('\nlisteners:');
  print(await checkListeners(config, running));
  print(await checkMetrics(config, running));

  const { records, skipped } = dnsRecords(config);
  for (const s of skipped) console.log(`\nDNS: nothing to publish for ${s.domain} (${s.reason})`);
  if (records.length) {
    console.log('\nDNS records to publish (replace 203.0.113.10 and 2001:db8::10 with this server\'s public addresses; leave out AAAA without public IPv6):');
    for (const line of records) console.log(`  ${line}`);
  }
  return problems === 0 ? 0 : 1;
}

/** RFC 6120 §3.2.1 (SRV), XEP-0368 (direct TLS SRV) and the A and AAAA records for each host that can have public DNS. */
export function dnsRecords(config: Config, ipv4 = '203.0.113.10', ipv6 = '2001:db8::10'): { records: string[]; skipped: { domain: string; reason: string }[] } {
  const records: string[] = [];
  const skipped: { domain: string; reason: string }[] = [];
  const starttls = config.listeners.find((l) => l.type === 'c2s' && l.tls === 'starttls');
  const direct = config.listeners.find((l) => l.type === 'c2s' && l.tls === 'direct');
  for (const { domain } of config.hosts) {
    const reason = notPublicReason(domain);
    if (reason) {
      skipped.push({ domain, reason });
      continue;
    }
    if (starttls) records.push(`_xmpp-client._tcp.${domain}. 3600 IN SRV 5 0 ${starttls.port} ${domain}.`);
    if (direct) records.push(`_xmpps-client._tcp.${domain}. 3600 IN SRV 4 0 ${direct.port} ${domain}.`);
    records.push(`${domain}. 3600 IN A ${ipv4}`, `${domain}. 3600 IN AAAA ${ipv6}`);
  }
  return { records, skipped };
}
