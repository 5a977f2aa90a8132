// The certificates of the served hosts, and the TLS contexts built from them once: creating a
// SecureContext parses the chain and key, far too slow to do per connection.
import { constants, randomBytes } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import tls from 'node:tls';
import type { Logger } from '../log.ts';
import { CertificateFileError, readCertificateFiles, storedCertificatePaths } from './certificate-files.ts';
import type { CertificatePaths, LoadedCertificate } from './certificate-files.ts';
import { nameCovers, namesCover, normalizeDnsName } from './certificate-names.ts';
import { generateCertificate, generatedCertificateNames } from './generate-certificate.ts';
import type { CertificateKeyType } from './self-signed.ts';

/** A host with its certificate settings given inline (the config's `hosts[]` entries map onto it). */
export interface HostCertificateConfig {
  domain: string;
  /** Same as `serviceNames[domain]`. */
  extraNames?: string[];
  /** Same as `explicit[domain]`. */
  explicit?: CertificatePaths | undefined;
}

export interface CertificateStoreOptions {
  dataDir: string;
  /** Served domains; the first is the default: its certificate answers unknown names (and absent SNI, see #baseFor). */
  hosts: (string | HostCertificateConfig)[];
  /** Per host, certificate files named in the config instead of `<dataDir>/certs/<host>/`. */
  explicit?: Record<string, CertificatePaths>;
  /** Per host, names a generated certificate covers besides host and `*.host` (e.g. `conference.a.host`). */
  serviceNames?: Record<string, string[]>;
  /** Key type of generated certificates; ECDSA P-256 by default (cheapest handshake). */
  keyType?: CertificateKeyType;
  log: Logger;
}

export type CertificateSource = 'explicit' | 'stored' | 'generated';

interface HostCertificate {
  host: string;
  source: CertificateSource;
  certificate: LoadedCertificate;
  context: tls.SecureContext;
}

interface Index {
  byHost: Map<string, HostCertificate>;
  exact: Map<string, HostCertificate>;
  /** Keyed by the parent domain of a `*.parent` name. */
  wildcard: Map<string, HostCertificate>;
  /** The default host's: the answer to a name no certificate covers. */
  fallback: HostCertificate;
  /** What a connection starts with, and what a client without SNI gets (see #baseFor). */
  base: HostCertificate;
}

type SNICallback = (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void;

/** serverOptions() with the fields it always sets made non-optional. */
export interface ServerTlsOptions extends tls.TlsOptions {
  readonly key: string;
  readonly cert: string;
  readonly secureContext: tls.SecureContext;
  SNICallback: SNICallback;
  minVersion: tls.SecureVersion;
  ciphers: string;
  honorCipherOrder: boolean;
  secureOptions: number;
  ticketKeys: Buffer;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A generated certificate is replaced at start when it has less left than this. */
const GENERATED_RENEW_BEFORE_MS = 30 * DAY_MS;
/** An operator's certificate earns a warning when it has less left than this. */
const EXPIRY_WARNING_MS = 14 * DAY_MS;

/**
 * Protocol settings of every context, and of the server's own default context. TLS 1.2 and up,
 * AEAD ciphers with forward secrecy only, chosen in the server's order with the ECDSA suites
 * first: with TLS 1.2 the suite decides which certificate type is used, and it must favour the
 * SNI host's ECDSA certificate over the base RSA one (see #baseFor). CHACHA20 still wins for
 * clients that put it first (phones without AES instructions). Renegotiation is refused: TLS
 * 1.3 has none and in TLS 1.2 it only offers a CPU-exhaustion lever.
 */
const PROTOCOL = {
  minVersion: 'TLSv1.2' as tls.SecureVersion,
  ciphers: [
    'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
  secureOptions: constants.SSL_OP_PRIORITIZE_CHACHA | constants.SSL_OP_NO_RENEGOTIATION,
};

export class CertificateStore {
  readonly hosts: readonly string[];
  readonly defaultHost: string;
  readonly #dataDir: string;
  readonly #explicit: Map<string, CertificatePaths>;
  readonly #serviceNames: Map<string, string[]>;
  readonly #keyType: CertificateKeyType;
  readonly #log: Logger;
  /**
   * One session-ticket key for every context and across reloads, so a client resumes (skipping
   * the certificate signature) whichever certificate SNI picked and after a renewal. It lives in
   * memory only: a restart invalidates outstanding tickets, bounding their exposure.
   */
  readonly #ticketKeys = randomBytes(48);
  readonly #reloadListeners = new Set<() => void>();
  #index: Index | undefined;

  constructor(opts: CertificateStoreOptions) {
    this.#explicit = new Map(Object.entries(opts.explicit ?? {}).map(([h, p]) => [normalizeDnsName(h), p]));
    this.#serviceNames = new Map(Object.entries(opts.serviceNames ?? {}).map(([h, n]) => [normalizeDnsName(h), n]));
    const hosts: string[] = [];
    for (const entry of opts.hosts) {
      const domain = normalizeDnsName(typeof entry === 'string' ? entry : entry.domain);
      if (!hosts.includes(domain)) hosts.push(domain);
      if (typeof entry === 'string') continue;
      if (entry.explicit) this.#explicit.set(domain, entry.explicit);
      if (entry.extraNames?.length) this.#serviceNames.set(domain, entry.extraNames);
    }
    if (hosts.length === 0) throw new Error('CertificateStore needs at least one host');
    this.hosts = hosts;
    this.defaultHost = hosts[0]!;
    this.#dataDir = opts.dataDir;
    this.#keyType = opts.keyType ?? 'ec-p256';
    this.#log = opts.log;
  }

  /** Read (or generate) every host's certificate and build the TLS contexts. */
  async load(): Promise<void> {
    this.#index = await this.#build();
  }

  /**
   * Re-read the files (after a renewal) and swap in new contexts. On any error the previous
   * certificates stay in service and the error is thrown. Listeners (direct-TLS servers, which
   * keep their own default context) are told afterwards.
   */
  async reload(): Promise<void> {
    this.#index = await this.#build();
    this.#log.info({ hosts: this.hosts }, 'certificates reloaded');
    for (const listener of this.#reloadListeners) listener();
  }

  /** Call `listener` after each successful reload, e.g. `server.setSecureContext(store.serverOptions())`. */
  onReload(listener: () => void): () => void {
    this.#reloadListeners.add(listener);
    return () => this.#reloadListeners.delete(listener);
  }

  /** SHA-256 fingerprint (`AA:BB:...`) of the host's certificate. */
  fingerprint(host: string): string | undefined {
    return this.certificate(host)?.fingerprint;
  }

  /** The certificate configured for a served host. */
  certificate(host: string): LoadedCertificate | undefined {
    return this.#loaded().byHost.get(normalizeDnsName(host))?.certificate;
  }

  /** Where the host's certificate came from. */
  source(host: string): CertificateSource | undefined {
    return this.#loaded().byHost.get(normalizeDnsName(host))?.source;
  }

  /** The certificate a client naming `servername` gets (undefined: a client without SNI). */
  certificateFor(servername: string | undefined): LoadedCertificate {
    return this.#select(servername).certificate;
  }

  /**
   * The context for a TLS server name: a certificate naming it exactly, else one whose
   * `*.parent` wildcard covers it (one label only, RFC 6125 §6.4.3), else the default host's.
   */
  secureContextFor(servername: string | undefined): tls.SecureContext {
    return this.#select(servername).context;
  }

  /** For `tls.createServer` and `new tls.TLSSocket(..., { isServer: true, ...})`. */
  readonly SNICallback: SNICallback = (servername, cb) => {
    let context: tls.SecureContext;
    try {
      context = this.secureContextFor(servername);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, context);
  };

  /**
   * Options for the direct-TLS listener and the STARTTLS upgrade: pass them whole (the
   * protocol settings matter for tls.createServer's own context). `secureContext` spares a
   * `new tls.TLSSocket` from building a context per connection; `key`/`cert` are what
   * `tls.createServer` builds its own default context from (it ignores `secureContext`, so after
   * a reload call `server.setSecureContext(store.serverOptions())`). The certificate fields are
   * getters, so an options object a STARTTLS listener keeps follows reloads.
   * ALPN is left to the caller.
   *
   * `host`: the domain the peer already asked for, i.e. the `to` of the stream header before
   * STARTTLS. The connection then starts with that host's certificate, so it is right even for
   * a client that sends no SNI, and Node's SNI quirk (see #build) cannot bite.
   */
  serverOptions(host?: string): ServerTlsOptions {
    this.#loaded();
    const start = (): HostCertificate => (host === undefined ? this.#loaded().base : this.#select(host));
    return {
      get key() { return start().certificate.keyPem; },
      get cert() { return start().certificate.certPem; },
      get secureContext() { return start().context; },
      SNICallback: this.SNICallback,
      ...PROTOCOL,
      ticketKeys: this.#ticketKeys,
    };
  }

  /** The same as serverOptions(); the name server.ts and the listeners were written against. */
  tlsSettings(): ServerTlsOptions {
    return this.serverOptions();
  }

  #loaded(): Index {
    if (!this.#index) throw new Error('CertificateStore.load() has not completed');
    return this.#index;
  }

  #select(servername: string | undefined): HostCertificate {
    const index = this.#loaded();
    if (!servername) return index.base;
    const name = normalizeDnsName(servername);
    const exact = index.exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return (dot > 0 ? index.wildcard.get(name.slice(dot + 1)) : undefined) ?? index.fallback;
  }

  async #build(): Promise<Index> {
    const byHost = new Map<string, HostCertificate>();
    const contexts = new Map<string, tls.SecureContext>(); // hosts sharing a certificate share its context
    for (const host of this.hosts) {
      const { certificate, source } = await this.#loadHost(host);
      this.#warnAbout(host, certificate);
      let context = contexts.get(certificate.fingerprint);
      if (!context) {
        context = this.#createContext(certificate);
        contexts.set(certificate.fingerprint, context);
      }
      byHost.set(host, { host, source, certificate, context });
      this.#log.info({
        host, source, fingerprint: certificate.fingerprint, fingerprintSha1: certificate.fingerprintSha1, notAfter: certificate.notAfter.toISOString(),
        names: certificate.names, file: certificate.paths.cert,
      }, 'certificate loaded');
    }
    // A served host always gets its own certificate, whatever another host's names say; then
    // other exact names; then wildcards. Earlier hosts win ties.
    const exact = new Map<string, HostCertificate>();
    const wildcard = new Map<string, HostCertificate>();
    for (const entry of byHost.values()) exact.set(entry.host, entry);
    for (const entry of byHost.values()) {
      for (const name of entry.certificate.names) {
        if (name.startsWith('*.')) {
          if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), entry);
        } else if (!exact.has(name)) {
          exact.set(name, entry);
        }
      }
    }
    const fallback = byHost.get(this.defaultHost)!;
    return { byHost, exact, wildcard, fallback, base: this.#baseFor(fallback, byHost) };
  }

  /**
   * Node applies an SNI context by adding its certificate to the connection's initial one
   * instead of replacing it, and OpenSSL keeps one certificate per key type (nodejs/node#54235).
   * If the initial certificate is ECDSA and SNI picks an RSA one, the connection holds both and
   * clients, which prefer ECDSA, get the initial host's certificate. So when the hosts mix key
   * types, connections start with the first host whose key type clients like least: every SNI
   * certificate then either replaces it (same type) or is preferred over it. The price: clients
   * that send no SNI get that host's certificate instead of the default host's.
   */
  #baseFor(fallback: HostCertificate, byHost: Map<string, HostCertificate>): HostCertificate {
    let base = fallback;
    for (const entry of byHost.values()) {
      if (keyPreference(entry.certificate) < keyPreference(base.certificate)) base = entry;
    }
    if (base !== fallback) {
      this.#log.warn({
        defaultHost: fallback.host, noSniHost: base.host,
        keyTypes: [...new Set([...byHost.values()].map((e) => e.certificate.leaf.publicKey.asymmetricKeyType))],
      }, 'hosts mix certificate key types: clients without SNI get the certificate of noSniHost (RSA keys are served only where clients cannot use the others)');
    }
    return base;
  }

  async #loadHost(host: string): Promise<{ certificate: LoadedCertificate; source: CertificateSource }> {
    const explicit = this.#explicit.get(host);
    if (explicit) return { certificate: await readCertificateFiles(explicit), source: 'explicit' };

    const stored = storedCertificatePaths(this.#dataDir, host);
    const extraNames = this.#serviceNames.get(host) ?? [];
    // Either file present means someone put it there: read it (a missing partner is an error),
    // never overwrite it, unless it is a certificate Chorus generated itself.
    if ((await exists(stored.cert)) || (await exists(stored.key))) {
      const certificate = await readCertificateFiles(stored);
      const renewal = certificate.generated ? generatedRenewalReason(certificate, host, extraNames) : undefined;
      if (!renewal) return { certificate, source: 'stored' };
      this.#log.info({ host, reason: renewal }, 'replacing the self-signed certificate Chorus generated');
    }
    const certificate = await generateCertificate(host, this.#dataDir, extraNames, { keyType: this.#keyType });
    this.#log.info({
      host, fingerprint: certificate.fingerprint, fingerprintSha1: certificate.fingerprintSha1, names: certificate.names,
      notAfter: certificate.notAfter.toISOString(), file: certificate.paths.cert,
    }, 'generated a self-signed certificate; clients must be told to trust this fingerprint');
    return { certificate, source: 'generated' };
  }

  #createContext(certificate: LoadedCertificate): tls.SecureContext {
    try {
      return tls.createSecureContext({
        key: certificate.keyPem,
        cert: certificate.certPem,
        ...PROTOCOL,
        ticketKeys: this.#ticketKeys,
      });
    } catch (err) {
      // e.g. OpenSSL's security level refusing a small RSA key or a weak signature
      throw new CertificateFileError(certificate.paths.cert, `unusable for TLS: ${(err as Error).message}`);
    }
  }

  #warnAbout(host: string, certificate: LoadedCertificate): void {
    const now = Date.now();
    const file = certificate.paths.cert;
    if (certificate.notAfter.getTime() <= now) {
      this.#log.warn({ host, file, notAfter: certificate.notAfter.toISOString() }, 'certificate has expired');
    } else if (certificate.notAfter.getTime() - now < EXPIRY_WARNING_MS) {
      this.#log.warn({ host, file, notAfter: certificate.notAfter.toISOString() }, 'certificate expires soon');
    }
    if (certificate.notBefore.getTime() > now) {
      this.#log.warn({ host, file, notBefore: certificate.notBefore.toISOString() }, 'certificate is not valid yet');
    }
    if (!namesCover(certificate.names, host)) {
      this.#log.warn({ host, file, names: certificate.names }, 'certificate does not cover the host');
    }
  }
}

/** How early a key type comes in clients' signature algorithm lists (OpenSSL, BoringSSL, NSS). */
function keyPreference(certificate: LoadedCertificate): number {
  switch (certificate.leaf.publicKey.asymmetricKeyType) {
    case 'ec': return 3;
    case 'ed25519':
    case 'ed448': return 2;
    case 'rsa-pss': return 1;
    default: return 0;
  }
}

function generatedRenewalReason(certificate: LoadedCertificate, host: string, extraNames: string[]): string | undefined {
  if (certificate.notAfter.getTime() - Date.now() < GENERATED_RENEW_BEFORE_MS) return 'it expires within 30 days';
  const missing = generatedCertificateNames(host, extraNames)
    .filter((n) => !certificate.names.some((have) => have === n || (!n.startsWith('*.') && nameCovers(have, n))));
  return missing.length > 0 ? `it does not cover ${missing.join(', ')}` : undefined;
}

/** lstat: a dangling symlink or an unreadable file counts as present, so reading it reports why. */
async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
