// `chorus cert generate [HOST]` and `chorus cert import DIR`.
import { resolve } from 'node:path';
import { generateCertificate } from '../tls/generate-certificate.ts';
import { importCertificates } from '../tls/import-certbot.ts';
import type { Config } from '../config/load-config.ts';
import { UsageError } from './errors.ts';
import type { Logger } from '../log.ts';

export async function certCommand(config: Config, _log: Logger, args: string[]): Promise<number> {
  const [action, arg] = args;
  const dataDir = resolve(config.dataDir);
  const hosts = config.hosts.map((h) => h.domain);
  if (action === 'generate') {
    const targets = arg ? [arg.toLowerCase()] : hosts;
    for (const domain of targets) {
      const host = config.hosts.find((h) => h.domain === domain);
      if (!host) throw new UsageError(`${domain} is not a served host (hosts: ${hosts.join(', ')})`);
      const cert = await generateCertificate(domain, dataDir, host.serviceNames);
      console.log(`${domain}: generated a self-signed certificate (${cert.names.join(', ')})`);
      console.log(`  SHA-256 fingerprint ${cert.fingerprint}`);
      console.log(`  SHA-1 fingerprint   ${cert.fingerprintSha1}`);
      console.log(`  ${cert.paths.cert}`);
    }
    return 0;
  }
  if (action === 'import') {
    if (!arg) throw new UsageError('cert import needs a directory, e.g. /etc/letsencrypt/live');
    const result = await importCertificates(resolve(arg), dataDir, hosts);
    for (const c of result.imported) {
      console.log(`imported ${c.from.cert} for ${c.hosts.join(', ')} (valid until ${c.notAfter.toISOString()}, SHA-256 ${c.fingerprint}, SHA-1 ${c.fingerprintSha1})`);
    }
    for (const s of result.skipped) console.log(`skipped ${s.dir}: ${s.reason}`);
    if (result.imported.length === 0) {
      console.error('no certificate was imported');
      return 1;
    }
    console.log('restart Chorus (or send it SIGHUP) to use the new certificates');
    return 0;
  }
  throw new UsageError(`cert needs 'generate [HOST]' or 'import DIR'`);
}
