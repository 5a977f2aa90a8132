// A listener that cannot listen, said in one line an operator can act on: which entry of
// `listeners` it is, the address and port, why, and the key to change.
import type { ListenerConfig } from '../config/schema.ts';

export class ListenerError extends Error {
  constructor(readonly index: number, readonly listener: ListenerConfig, readonly code: string | undefined, detail: string) {
    super(`listeners.${index} (${listenerKind(listener)}) cannot listen on ${hostPort(listener)}: ${reason(index, code, detail)}`);
  }
}

export function listenerKind(l: ListenerConfig): string {
  return l.type === 'c2s' ? `c2s, ${l.tls}` : l.tls ? 'https' : 'http';
}

/** `127.0.0.1:5222`, `[::1]:5280`, and `*:5222` for every interface (no address configured). */
export function hostPort(l: ListenerConfig): string {
  const host = l.address === undefined ? '*' : l.address.includes(':') ? `[${l.address}]` : l.address;
  return `${host}:${l.port}`;
}

function reason(index: number, code: string | undefined, detail: string): string {
  switch (code) {
    case 'EADDRINUSE':
      return `the port is in use by another program; stop it, or change listeners.${index}.port`;
    case 'EACCES':
      return `permission denied (ports below 1024 need privileges); change listeners.${index}.port, or allow the port (setcap cap_net_bind_service)`;
    case 'EADDRNOTAVAIL':
      return `this machine has no such address; change listeners.${index}.address`;
    case 'EAFNOSUPPORT':
      return `this machine has no IPv6; change listeners.${index}.address`;
    default:
      return `${detail}; check listeners.${index}`;
  }
}
