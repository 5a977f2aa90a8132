// What the coordinator needs from a server under test, whoever started it.
import type { ScramSeed } from '../scram-client.ts';

export interface TargetOptions {
  sessions: number; // accounts to provision: `${userPrefix}0` .. `${userPrefix}${sessions - 1}`
  userPrefix: string;
  password: string;
  domain: string;
  certKey: 'ec' | 'rsa';
  keepTemp: boolean;
  log: (line: string) => void;
}

export interface Endpoint {
  host: string;
  port: number;
  domain: string;
  /** The server process whose CPU and memory are measured. */
  pid: number;
  version: string;
  /** Salted passwords known from provisioning: the generator then needs no priming pass. */
  seeds?: ScramSeed[];
  /** Where the server's own files (config, log) are, for the report. */
  workDir?: string;
}

export interface Target {
  readonly name: string;
  /** Provisions the accounts and starts the server; resolves once it accepts connections. */
  start(): Promise<Endpoint>;
  /** Stops what start() started (by PID) and removes its temporary files; safe to call twice. */
  stop(): Promise<void>;
}
