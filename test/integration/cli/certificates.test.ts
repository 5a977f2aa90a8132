// `chorus cert generate`, `chorus cert import` (from a certbot-shaped live/ tree) and
// `chorus check`, run as child processes against temporary data directories.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, makeTempDir, writeConfig } from '../../support/chorus-process.ts';
import { createCertificate, createSelfSignedCertificate, type PemPair } from '../../../server/tls/self-signed.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** The `SHA-256 fingerprint XX:..` values printed, in order. */
function printedFingerprints(stdout: string): string[] {
  return [...stdout.matchAll(/SHA-256(?: fingerprint)? ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/g)].map((m) => m[1]!);
}

async function fingerprintOf(file: string): Promise<string> {
  return new X509Certificate(await readFile(file)).fingerprint256;
}

/** A leaf issued by a throw-away CA, as a CA would deliver it: fullchain = leaf + CA. */
function caIssued(names: string[], validity: { notBefore?: Date; notAfter?: Date } = {}): PemPair & { leaf: string } {
  const ca = createSelfSignedCertificate({ names: ['ca.chorus.test'], organization: 'Chorus Test CA', ca: true });
  const leaf = createCertificate({
    names,
    organization: 'Chorus Test',
    issuer: { commonName: 'ca.chorus.test', organization: 'Chorus Test CA', key: ca.key },
    ...validity,
  });
  return { cert: leaf.cert + ca.cert, key: leaf.key, leaf: leaf.cert };
}

/**
 * certbot's layout: live/<name>/{fullchain,privkey}.pem are symlinks into archive/<name>/,
 * and live/ also holds a README.
 */
async function certbotLineage(root: string, name: string, pair: PemPair): Promise<void> {
  const archive = join(root, 'archive', name);
  const live = join(root, 'live', name);
  await mkdir(archive, { recursive: true });
  await mkdir(live, { recursive: true });
  await writeFile(join(archive, 'fullchain1.pem'), pair.cert);
  await writeFile(join(archive, 'privkey1.pem'), pair.key, { mode: 0o600 });
  await symlink(join('..', '..', 'archive', name, 'fullchain1.pem'), join(live, 'fullchain.pem'));
  await symlink(join('..', '..', 'archive', name, 'privkey1.pem'), join(live, 'privkey.pem'));
  await writeFile(join(root, 'live', 'README'), 'This directory contains your keys and certificates.\n');
}

function expectNoStack(stderr: string): void {
  expect(stderr, 'an operator error is one sentence, not a stack trace').to.not.match(/^\s+at /m);
}

describe('CLI: certificates and check', function () {
  this.timeout(60_000);
  let dir: string;
  let dataDir: string;
  let config: string;

  beforeEach(async () => {
    dir = await makeTempDir();
    dataDir = join(dir, 'data');
    config = await writeConfig(dir, {
      dataDir,
      log: { level: 'warn' },
      hosts: [{ domain: 'localhost' }, { domain: 'example.test', serviceNames: ['conference.example.test'] }],
      // Nothing here listens; `check` only looks at them (test/integration/cli/check.test.ts).
      listeners: [
        { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'starttls' },
        { type: 'c2s', address: '127.0.0.1', port: 0, tls: 'direct' },
      ],
    });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const chorus = (args: string[], cfg = config) => runCli([...args, '--config', cfg]);
  const certFile = (host: string) => join(dataDir, 'certs', host, 'fullchain.pem');
  const keyFile = (host: string) => join(dataDir, 'certs', host, 'privkey.pem');

  describe('cert generate', () => {
    it('writes a self-signed certificate per host under dataDir/certs/<host>/ and prints its fingerprint', async () => {
      const r = await chorus(['cert', 'generate']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include('localhost: generated a self-signed certificate (localhost, *.localhost)');
      expect(r.stdout).to.include('example.test: generated a self-signed certificate (example.test, *.example.test, conference.example.test)');
      expect(printedFingerprints(r.stdout)).to.deep.equal([await fingerprintOf(certFile('localhost')), await fingerprintOf(certFile('example.test'))]);
      expect(r.stdout).to.include(certFile('localhost'));

      const leaf = new X509Certificate(await readFile(certFile('example.test')));
      expect(leaf.subjectAltName).to.equal('DNS:example.test, DNS:*.example.test, DNS:conference.example.test');
      expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(await readFile(keyFile('example.test'))))).to.equal(true);
      // The private key is readable by the server's user only.
      expect((await stat(keyFile('localhost'))).mode & 0o077).to.equal(0);
    });

    it('regenerates only the host named', async () => {
      expect((await chorus(['cert', 'generate'])).code).to.equal(0);
      const before = { localhost: await fingerprintOf(certFile('localhost')), example: await fingerprintOf(certFile('example.test')) };
      const r = await chorus(['cert', 'generate', 'EXAMPLE.test']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.not.include('localhost:');
      expect(await fingerprintOf(certFile('localhost'))).to.equal(before.localhost);
      const after = await fingerprintOf(certFile('example.test'));
      expect(after).to.not.equal(before.example);
      expect(printedFingerprints(r.stdout)).to.deep.equal([after]);
    });

    it('refuses a host that is not served, naming the hosts, and writes nothing', async () => {
      const r = await chorus(['cert', 'generate', 'elsewhere.example']);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.include('elsewhere.example is not a served host (hosts: localhost, example.test)');
      expect(existsSync(join(dataDir, 'certs', 'elsewhere.example'))).to.equal(false);
      expectNoStack(r.stderr);
    });
  });

  describe('cert import', () => {
    it("imports from certbot's live/ directory: files copied, fingerprint printed, unrelated lineages skipped", async () => {
      const letsencrypt = join(dir, 'letsencrypt');
      const pair = caIssued(['localhost', 'www.localhost']);
      await certbotLineage(letsencrypt, 'localhost', pair);
      await certbotLineage(letsencrypt, 'unrelated.example', caIssued(['unrelated.example']));

      const r = await chorus(['cert', 'import', join(letsencrypt, 'live')]);
      expect(r.code, r.stderr).to.equal(0);
      const fingerprint = new X509Certificate(pair.leaf).fingerprint256;
      expect(r.stdout).to.match(/^imported .*live\/localhost\/fullchain\.pem for localhost \(valid until \d{4}-\d\d-\d\dT[\d:.]+Z, SHA-256 [0-9A-F:]+, SHA-1 [0-9A-F:]+\)$/m);
      expect(printedFingerprints(r.stdout)).to.deep.equal([fingerprint]);
      expect(r.stdout).to.match(/^skipped .*live\/unrelated\.example: covers none of localhost, example\.test/m);
      expect(r.stdout).to.include('SIGHUP');

      // The chain and key themselves were copied, not the symlinks.
      expect(await readFile(certFile('localhost'), 'utf8')).to.equal(pair.cert);
      expect(await readFile(keyFile('localhost'), 'utf8')).to.equal(pair.key);
      expect((await stat(keyFile('localhost'))).mode & 0o077).to.equal(0);
      expect(existsSync(certFile('example.test'))).to.equal(false);

      // check now reports the imported certificate as usable and CA-issued.
      const check = await chorus(['check']);
      expect(check.stdout).to.include('localhost: certificate ok\n');
      expect(check.stdout).to.include(`SHA-256 fingerprint ${fingerprint}`);
      expect(check.stdout).to.include('names: localhost, www.localhost');
    });

    it('imports one domain folder given directly', async () => {
      const folder = join(dir, 'example.test');
      const pair = caIssued(['example.test', '*.example.test']);
      await mkdir(folder);
      await writeFile(join(folder, 'fullchain.pem'), pair.cert);
      await writeFile(join(folder, 'privkey.pem'), pair.key);
      const r = await chorus(['cert', 'import', folder]);
      expect(r.code, r.stderr).to.equal(0);
      expect(await readFile(certFile('example.test'), 'utf8')).to.equal(pair.cert);
      expect(existsSync(certFile('localhost'))).to.equal(false);
    });

    it('refuses an expired certificate and writes nothing', async () => {
      const letsencrypt = join(dir, 'letsencrypt');
      const now = Date.now();
      await certbotLineage(letsencrypt, 'localhost', caIssued(['localhost'], { notBefore: new Date(now - 100 * DAY_MS), notAfter: new Date(now - DAY_MS) }));
      const r = await chorus(['cert', 'import', join(letsencrypt, 'live')]);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(/live\/localhost\/fullchain\.pem: expired on /);
      expect(existsSync(certFile('localhost'))).to.equal(false);
      expectNoStack(r.stderr);
    });

    it('refuses a directory that does not exist', async () => {
      const r = await chorus(['cert', 'import', join(dir, 'nothing-here')]);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.include(`${join(dir, 'nothing-here')}: not found`);
      expectNoStack(r.stderr);
    });
  });

  describe('check', () => {
    it('prints the state of each certificate with both fingerprints', async () => {
      const before = await chorus(['check']);
      expect(before.code, before.stderr).to.equal(0);
      expect(before.stdout).to.include('configuration: valid (2 hosts, storage embedded)');
      expect(before.stdout).to.include('localhost: no certificate yet');

      expect((await chorus(['cert', 'generate'])).code).to.equal(0);
      const after = await chorus(['check']);
      expect(after.code, after.stdout).to.equal(0);
      expect(after.stdout).to.include('localhost: certificate ok (self-signed: clients will warn)');
      expect(after.stdout).to.include('example.test: certificate ok (self-signed: clients will warn)');
      expect(printedFingerprints(after.stdout)).to.include.members([await fingerprintOf(certFile('localhost')), await fingerprintOf(certFile('example.test'))]);
      // SHA-1 too: some clients show only that one (profanity 0.13).
      const sha1 = new X509Certificate(await readFile(certFile('localhost'))).fingerprint;
      expect(after.stdout).to.include(`  SHA-1 fingerprint   ${sha1}\n`);
    });

    it('exits non-zero and says why when a certificate is expired or does not cover the host', async () => {
      const now = Date.now();
      const expired = caIssued(['localhost'], { notBefore: new Date(now - 100 * DAY_MS), notAfter: new Date(now - DAY_MS) });
      const wrongName = caIssued(['other.example']);
      for (const [name, pair] of [['expired', expired], ['wrong', wrongName]] as const) {
        await writeFile(join(dir, `${name}.pem`), pair.cert);
        await writeFile(join(dir, `${name}.key`), pair.key);
      }
      const cfg = await writeConfig(
        dir,
        {
          dataDir,
          log: { level: 'warn' },
          hosts: [
            { domain: 'localhost', certificate: { cert: join(dir, 'expired.pem'), key: join(dir, 'expired.key') } },
            { domain: 'example.test', certificate: { cert: join(dir, 'wrong.pem'), key: join(dir, 'wrong.key') } },
          ],
        },
        'broken.yaml',
      );
      const r = await chorus(['check'], cfg);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.include('localhost: certificate PROBLEM');
      expect(r.stdout).to.match(/problem: .*expired\.pem: expired on /);
      expect(r.stdout).to.include('example.test: certificate PROBLEM');
      expect(r.stdout).to.match(/problem: .*wrong\.pem: does not cover example\.test/);
    });
  });
});
