// Client address rules: an IP address or a CIDR block, as configuration writes them.
import { BlockList, isIP } from 'node:net';

export interface AddressBlock {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** '127.0.0.0/8', '::1', 'fd00::/8'...; undefined when the text is neither an address nor a block. */
export function parseAddressBlock(text: string): AddressBlock | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const bits = text.slice(slash + 1);
  const prefix = slash < 0 ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
  if (prefix < 0 || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * A test of client addresses against the rules. An IPv4 rule also matches the IPv4-mapped IPv6
 * form (`::ffff:127.0.0.1`) a dual-stack socket reports (node:net's BlockList does this itself).
 */
export function addressFilter(rules: readonly string[]): (address: string | undefined) => boolean {
  const allowed = new BlockList();
  for (const rule of rules) {
    const block = parseAddressBlock(rule);
    if (!block) throw new Error(`'${rule}' is not an IP address or CIDR block`);
    allowed.addSubnet(block.address, block.prefix, block.family);
  }
  return (address) => {
    if (!address) return false;
    const version = isIP(address);
    return version !== 0 && allowed.check(address, version === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * A client's address as people write it: a dual-stack socket reports IPv4 clients as
 * IPv4-mapped IPv6 (`::ffff:192.0.2.1`), which logs and per-address limits read as `192.0.2.1`.
 */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
