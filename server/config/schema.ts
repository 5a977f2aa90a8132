// The configuration schema: the single source of defaults, units and documentation
// (docs/configuration.md is generated from it and a test keeps the two in step).
import { z } from 'zod';
import { parseAddressBlock } from '../net/address-block.ts';

const KiB = 1024;

const domainName = z
  .string()
  .min(1)
  .regex(/^[^\s/@]+$/, 'a domain name without spaces, "/" or "@"')
  .transform((s) => s.toLowerCase().replace(/\.$/, ''));

const port = z.number().int().min(0).max(65535);

const certificatePaths = z.strictObject({
  cert: z.string().min(1).describe('PEM file with the certificate chain (leaf first)'),
  key: z.string().min(1).describe('PEM file with the private key'),
});

const hostSchema = z.strictObject({
  domain: domainName.describe('The domain this virtual host serves, e.g. example.org'),
  certificate: certificatePaths
    .optional()
    .describe('Certificate files for this host; when absent, <dataDir>/certs/<domain>/ is used, and a self-signed certificate is generated there on first start'),
  serviceNames: z
    .array(domainName)
    .default([])
    .describe('Extra names (e.g. conference.example.org) the generated self-signed certificate must cover besides the domain and *.domain'),
});

const listenAddress = z
  .string()
  .min(1)
  .optional()
  .describe("Address to bind; absent: every interface, IPv6 and IPv4 (one dual-stack socket; IPv4 only on a host without IPv6). '0.0.0.0': every IPv4 interface only");

const c2sListener = z.strictObject({
  type: z.literal('c2s'),
  address: listenAddress,
  port: port.describe('TCP port (5222 for STARTTLS, 5223 for direct TLS by convention)'),
  tls: z
    .enum(['starttls', 'direct'])
    .default('starttls')
    .describe("'starttls': plain TCP upgraded with STARTTLS (RFC 6120 §5); 'direct': TLS from the first byte (XEP-0368)"),
  requireTls: z
    .boolean()
    .default(true)
    .describe('With tls=starttls: refuse authentication and stanzas until STARTTLS is done'),
});

const httpListener = z.strictObject({
  type: z.literal('http'),
  address: listenAddress,
  port: port.describe('TCP port'),
  tls: z.boolean().default(false).describe('Serve HTTPS/WSS with the hosts\' certificates (SNI picks the host)'),
  secureProxy: z
    .boolean()
    .default(false)
    .describe('Set when a TLS-terminating reverse proxy is in front: WebSocket sessions then count as encrypted'),
  websocketPath: z.string().startsWith('/').default('/xmpp-websocket').describe('Path of the XMPP WebSocket endpoint (RFC 7395)'),
  publicUrl: z
    .url()
    .optional()
    .describe('Public base URL (e.g. https://xmpp.example.org) advertised in host-meta; derived from the request when absent'),
});

const listenerSchema = z.discriminatedUnion('type', [c2sListener, httpListener]);

const embeddedStorage = z.strictObject({
  kind: z.literal('embedded'),
  compactionIntervalSeconds: z
    .number()
    .int()
    .min(0)
    .default(3600)
    .describe('How often the embedded store rewrites its append-only files (0 = only at shutdown)'),
});

const mongodbStorage = z.strictObject({
  kind: z.literal('mongodb'),
  uri: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URI').describe('MongoDB connection string'),
  database: z.string().optional().describe('Database name; default: the URI path, else "chorus"'),
});

export const coreConfigSchema = z.strictObject({
  dataDir: z
    .string()
    .min(1)
    .default('./data')
    .describe('Directory for the embedded store and certificates (relative to the working directory); env CHORUS_DATA_DIR'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Minimum level logged; env CHORUS_LOG_LEVEL'),
      format: z.enum(['auto', 'json', 'pretty']).default('auto').describe("'auto': readable lines on a terminal, JSON lines otherwise"),
    })
    .prefault({}),
  hosts: z.array(hostSchema).min(1).describe('Virtual hosts served; env CHORUS_HOSTS (comma-separated domains) replaces the list'),
  storage: z
    .discriminatedUnion('kind', [embeddedStorage, mongodbStorage])
    .prefault({ kind: 'embedded' })
    .describe("'embedded' (default, files under dataDir) or 'mongodb'; env CHORUS_MONGODB_URI selects mongodb"),
  listeners: z.array(listenerSchema).default([]).describe('Network listeners'),
  c2s: z
    .strictObject({
      maxStanzaBytes: z.number().int().min(4 * KiB).default(256 * KiB).describe('Largest stanza a client may send, in bytes (larger: <policy-violation/>)'),
      authTimeoutSeconds: z.number().int().min(1).default(30).describe('An unauthenticated stream is closed after this long'),
      maxAuthFailures: z.number().int().min(2).max(5).default(3).describe('Failed SASL attempts on one stream before it is closed (RFC 6120 §6.4.5: 2 to 5)'),
      idleSeconds: z.number().int().min(1).default(300).describe('After this long without traffic an authenticated stream is pinged (XEP-0199)'),
      pingTimeoutSeconds: z.number().int().min(1).default(60).describe('A pinged stream that does not answer in this time is closed'),
      queueLength: z.number().int().min(1).default(64).describe('Stanzas a session may have waiting for processing before the server stops reading its socket'),
    })
    .prefault({}),
  sasl: z
    .strictObject({
      mechanisms: z
        .array(z.enum(['SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']))
        .default(['SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'])
        .describe('Mechanisms offered (PLAIN only ever over TLS; -PLUS only when channel binding is available)'),
      scramIterations: z.number().int().min(4096).default(4096).describe('PBKDF2 iterations for newly stored SCRAM credentials (RFC 7677 §4 minimum 4096)'),
      acceptTlsUnique: z
        .boolean()
        .default(true)
        .describe("Accept SCRAM-…-PLUS bound with tls-unique (never advertised), also on TLS 1.3 as OpenSSL-based clients such as slixmpp compute it; false: only tls-exporter and tls-server-end-point"),
      throttle: z
        .strictObject({
          perAddress: z
            .strictObject({
              freeFailures: z.number().int().min(0).default(5).describe('Failed attempts from one address (IPv6: one /64) before it must wait between attempts; exchanges still in progress count as failures (for an address that has not failed yet, per account), so parallel connections get no more'),
              baseDelaySeconds: z.number().positive().default(1).describe('The first wait; each further failure doubles it'),
              maxDelaySeconds: z.number().positive().default(900).describe('The longest wait (15 min)'),
              forgetAfterSeconds: z.number().positive().default(3600).describe('An address (or block) is forgotten after this long without a failure; at least maxDelaySeconds'),
            })
            .refine((a) => a.maxDelaySeconds >= a.baseDelaySeconds, { message: 'must be at least baseDelaySeconds', path: ['maxDelaySeconds'] })
            .refine((a) => a.forgetAfterSeconds >= a.maxDelaySeconds, { message: 'must be at least maxDelaySeconds', path: ['forgetAfterSeconds'] })
            .prefault({})
            .describe('Exponential backoff per client address; an attempt during a wait gets <temporary-auth-failure/> and is not counted'),
          perBlock: z
            .strictObject({
              distinctAddresses: z.number().int().min(2).default(8).describe('Addresses of one IPv4 /24 (IPv6 /48) that must have failed before the block waits as a whole, by the same backoff'),
            })
            .prefault({})
            .describe('Address rotation inside one network: one guessing address never makes its block wait'),
          perAccount: z
            .strictObject({
              hotAfterFailures: z.number().int().min(1).default(5).describe('Failures on one account, without a pause of coolDownSeconds, after which addresses that failed recently may not try it; a clean address always may'),
              coolDownSeconds: z.number().positive().default(300).describe("An account's count is forgotten after this long without a failure; an address that failed within it is 'recent'"),
            })
            .prefault({})
            .describe('Guessing spread over many networks; an account is never refused on its own count'),
        })
        .prefault({})
        .describe('Slows password guessing by client address, address block and account; failures on an account never refuse an address that has not failed recently itself'),
    })
    .prefault({}),
  roster: z
    .strictObject({
      maxItems: z.number().int().min(1).default(1000).describe('Most items a roster may hold (more: <not-allowed/>)'),
      maxNameLength: z.number().int().min(1).default(1024).describe('Longest item name, in characters (longer: <not-acceptable/>)'),
      maxGroupLength: z.number().int().min(1).default(1024).describe('Longest group name, in characters (longer: <not-acceptable/>)'),
    })
    .prefault({})
    .describe('Roster limits (RFC 6121 §2.3.3)'),
  offline: z
    .strictObject({
      maxMessages: z
        .number()
        .int()
        .min(0)
        .default(1000)
        .describe('Most messages stored for one offline account (more: the sender gets <service-unavailable/>; 0 turns offline storage off)'),
    })
    .prefault({})
    .describe('Offline message storage (XEP-0160)'),
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve Prometheus metrics on every HTTP listener (docs/metrics.md)'),
      path: z.string().startsWith('/').default('/metrics').describe('Path of the metrics endpoint'),
      allowFrom: z
        .array(z.string().refine((s) => parseAddressBlock(s) !== undefined, 'an IP address or a CIDR block, e.g. 10.0.0.0/8 or fd00::/8'))
        .default(['127.0.0.0/8', '::1'])
        .describe('Client addresses or CIDR blocks that may scrape (an IPv4 rule also matches its IPv4-mapped IPv6 form); others get 403'),
    })
    .prefault({})
    .describe('Prometheus metrics endpoint'),
  shutdownGraceSeconds: z.number().min(0).default(5).describe('Time streams are given to close on shutdown before sockets are destroyed'),
});

export type CoreConfig = z.output<typeof coreConfigSchema>;
export type HostConfig = CoreConfig['hosts'][number];
export type ListenerConfig = CoreConfig['listeners'][number];
export type C2sListenerConfig = z.output<typeof c2sListener>;
export type HttpListenerConfig = z.output<typeof httpListener>;
export type StorageConfig = CoreConfig['storage'];
