import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { lstat, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { storedCertificatePaths } from '../../../server/tls/certificate-files.ts';
import { CertificateStore } from '../../../server/tls/certificate-store.ts';
import { CertificateImportError, generateCertificate, importCertificates } from '../../../server/tls/import-certbot.ts';
import { createCertificate } from '../../../server/tls/self-signed.ts';
import type { PemPair } from '../../../server/tls/self-signed.ts';
import { captureLogger, makeTempDir, removeTempDir } from './fixtures.ts';

const DAY = 24 * 60 * 60 * 1000;

/** A CA-issued certificate as certbot stores it: leaf + intermediate in fullchain. */
function issued(names: string[], opts: { notBefore?: Date; notAfter?: Date } = {}): PemPair & { leaf: string } {
  const intermediate = createCertificate({ names: ['Fake LE R3'], organization: 'Fake CA', ca: true });
  const leaf = createCertificate({
    names, organization: 'Subscriber', issuer: { commonName: 'Fake LE R3', organization: 'Fake CA', key: intermediate.key }, ...opts,
  });
  return { cert: leaf.cert + intermediate.cert, key: leaf.key, leaf: leaf.cert };
}

/** certbot's layout: archive/<name>/*N.pem, and live/<name>/*.pem symlinks into it. */
async function certbotLineage(root: string, name: string, pair: PemPair & { leaf: string }): Promise<string> {
  const archive = join(root, 'archive', name);
  const live = join(root, 'live', name);
  await mkdir(archive, { recursive: true });
  await mkdir(live, { recursive: true });
  await writeFile(join(archive, 'cert1.pem'), pair.leaf);
  await writeFile(join(archive, 'fullchain1.pem'), pair.cert);
  await writeFile(join(archive, 'privkey1.pem'), pair.key, { mode: 0o644 });
  for (const file of ['cert', 'fullchain', 'privkey']) {
    await symlink(join('..', '..', 'archive', name, `${file}1.pem`), join(live, `${file}.pem`));
  }
  return live;
}

describe('importCertificates (chorus cert import)', () => {
  let root: string;
  let dataDir: string;
  let org: PemPair & { leaf: string };
  let net: PemPair & { leaf: string };
  beforeEach(async () => {
    root = await makeTempDir();
    dataDir = join(root, 'data');
    org = issued(['example.org', '*.example.org']);
    net = issued(['example.net']);
    await certbotLineage(root, 'example.org', org);
    await certbotLineage(root, 'example.net', net);
    await writeFile(join(root, 'live', 'README'), 'This directory contains your keys and certificates.\n');
  });
  afterEach(async () => { await removeTempDir(root); });

  it("copies every lineage of certbot's live/ directory, following the symlinks", async () => {
    const result = await importCertificates(join(root, 'live'), dataDir);
    expect(result.skipped).to.deep.equal([]);
    expect(result.imported.map((i) => ({ hosts: i.hosts, names: i.names, from: i.from.cert }))).to.deep.equal([
      { hosts: ['example.net'], names: ['example.net'], from: join(root, 'live', 'example.net', 'fullchain.pem') },
      { hosts: ['example.org'], names: ['example.org', '*.example.org'], from: join(root, 'live', 'example.org', 'fullchain.pem') },
    ]);
    for (const [domain, pair] of [['example.org', org], ['example.net', net]] as const) {
      const paths = storedCertificatePaths(dataDir, domain);
      expect((await lstat(paths.cert)).isSymbolicLink()).to.equal(false);
      expect((await lstat(paths.key)).isSymbolicLink()).to.equal(false);
      expect(await readFile(paths.cert, 'utf8')).to.equal(pair.cert);
      expect(await readFile(paths.key, 'utf8')).to.equal(pair.key);
      expect((await stat(paths.key)).mode & 0o777).to.equal(0o600);
    }
    const orgImport = result.imported[1]!;
    expect(orgImport.to).to.deep.equal([{ cert: storedCertificatePaths(dataDir, 'example.org').cert, key: storedCertificatePaths(dataDir, 'example.org').key }]);
    expect(orgImport.fingerprint).to.equal(new X509Certificate(org.leaf).fingerprint256);
    expect(orgImport.selfSigned).to.equal(false);
  });

  it('installs for the configured hosts each certificate covers and skips the rest', async () => {
    const result = await importCertificates(join(root, 'live'), dataDir, ['example.org', 'chat.example.org']);
    expect(result.imported).to.have.length(1);
    expect(result.imported[0]!.hosts).to.deep.equal(['example.org', 'chat.example.org']);
    expect(result.skipped).to.deep.equal([{
      dir: join(root, 'live', 'example.net'),
      reason: 'covers none of example.org, chat.example.org (it names example.net)',
    }]);
    expect(await readFile(storedCertificatePaths(dataDir, 'chat.example.org').cert, 'utf8')).to.equal(org.cert);
    let netWritten = true;
    await stat(storedCertificatePaths(dataDir, 'example.net').dir).catch(() => { netWritten = false; });
    expect(netWritten).to.equal(false);
  });

  it("imports one domain's folder, and the store then serves it", async () => {
    const result = await importCertificates(join(root, 'live', 'example.org'), dataDir);
    expect(result.imported.map((i) => i.hosts)).to.deep.equal([['example.org']]);
    const store = new CertificateStore({ dataDir, hosts: ['example.org'], log: captureLogger().log });
    await store.load();
    expect(store.source('example.org')).to.equal('stored');
    expect(store.fingerprint('example.org')).to.equal(new X509Certificate(org.leaf).fingerprint256);
    expect(store.certificate('example.org')!.chain).to.have.length(2);
  });

  it("reads certbot's -0001 lineage names as the domain", async () => {
    const live = await certbotLineage(root, 'example.com-0001', issued(['example.com']));
    const result = await importCertificates(live, dataDir);
    expect(result.imported[0]!.hosts).to.deep.equal(['example.com']);
  });

  describe('refuses, naming the file and the problem, and writes nothing', () => {
    async function failure(source: string, hosts?: string[]): Promise<string[]> {
      const err = await importCertificates(source, dataDir, hosts).then(() => null, (e: unknown) => e);
      expect(err).to.be.instanceOf(CertificateImportError);
      let written = true;
      await stat(join(dataDir, 'certs')).catch(() => { written = false; });
      expect(written).to.equal(false);
      return (err as CertificateImportError).problems;
    }

    it('a key that does not match its certificate', async () => {
      await writeFile(join(root, 'archive', 'example.org', 'privkey1.pem'), net.key);
      const live = join(root, 'live', 'example.org');
      expect(await failure(join(root, 'live'))).to.deep.equal([
        `${live}/privkey.pem: the private key does not match the certificate in ${live}/fullchain.pem`,
      ]);
    });

    it('a missing key file (a dangling symlink)', async () => {
      await rm(join(root, 'archive', 'example.net', 'privkey1.pem'));
      expect(await failure(join(root, 'live'))).to.deep.equal([`${join(root, 'live', 'example.net')}/privkey.pem: file not found`]);
    });

    it('a missing certificate file', async () => {
      const dir = join(root, 'single');
      await mkdir(dir);
      await writeFile(join(dir, 'privkey.pem'), org.key);
      expect(await failure(dir)).to.deep.equal([`${dir}/fullchain.pem: file not found`]);
    });

    it('an expired certificate', async () => {
      const old = issued(['example.com'], { notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - 10 * DAY) });
      const live = await certbotLineage(root, 'example.com', old);
      const problems = await failure(join(root, 'live'));
      expect(problems).to.have.length(1);
      expect(problems[0]).to.equal(`${live}/fullchain.pem: expired on ${new Date(new X509Certificate(old.leaf).validTo).toISOString()}`);
    });

    it('a certificate that does not cover its folder name', async () => {
      const live = await certbotLineage(root, 'example.com', issued(['www.example.com']));
      expect(await failure(live)).to.deep.equal([`${live}/fullchain.pem: does not cover example.com, the folder's name (it names www.example.com)`]);
    });

    it('a file that is not PEM', async () => {
      await writeFile(join(root, 'archive', 'example.org', 'fullchain1.pem'), 'not a certificate\n');
      expect(await failure(join(root, 'live', 'example.org'))).to.deep.equal([
        `${join(root, 'live', 'example.org')}/fullchain.pem: contains no PEM certificate`,
      ]);
    });

    it('a directory without certificates', async () => {
      const empty = join(root, 'empty');
      await mkdir(empty);
      expect(await failure(empty)).to.deep.equal([`${empty}: no fullchain.pem or privkey.pem in it or in its sub-folders`]);
    });

    it('a directory that does not exist', async () => {
      expect(await failure(join(root, 'nowhere'))).to.deep.equal([`${join(root, 'nowhere')}: not found`]);
    });
  });
});

describe('generateCertificate (chorus cert generate)', () => {
  let dataDir: string;
  beforeEach(async () => { dataDir = await makeTempDir(); });
  afterEach(async () => { await removeTempDir(dataDir); });

  it('writes a new self-signed certificate, replacing the previous one', async () => {
    const first = await generateCertificate('example.org', dataDir, ['upload.example.org']);
    const second = await generateCertificate('example.org', dataDir, ['upload.example.org']);
    expect(second.fingerprint).to.not.equal(first.fingerprint);
    expect(second.names).to.deep.equal(['example.org', '*.example.org', 'upload.example.org']);
    expect(second.selfSigned).to.equal(true);
    expect(second.generated).to.equal(true);
    const paths = storedCertificatePaths(dataDir, 'example.org');
    expect(second.paths).to.deep.equal({ cert: paths.cert, key: paths.key });
    expect(new X509Certificate(await readFile(paths.cert)).fingerprint256).to.equal(second.fingerprint);
    expect((await stat(paths.key)).mode & 0o777).to.equal(0o600);
  });
});
