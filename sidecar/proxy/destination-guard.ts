import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

import { ErrorCode, MtlsError } from '../../core/errors/codes';

// Addresses an application must not reach through the proxy by accident or by injection:
// loopback (the pod itself, the proxy's admin port), link-local, and the cloud metadata services.
const blocked = new BlockList();
blocked.addSubnet('127.0.0.0', 8, 'ipv4');
blocked.addSubnet('0.0.0.0', 8, 'ipv4');
blocked.addSubnet('169.254.0.0', 16, 'ipv4');
blocked.addAddress('::1', 'ipv6');
blocked.addAddress('::', 'ipv6');
blocked.addSubnet('fe80::', 10, 'ipv6');
blocked.addAddress('fd00:ec2::254', 'ipv6');
blocked.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
blocked.addSubnet('::ffff:169.254.0.0', 112, 'ipv6');

const BLOCKED_NAMES = new Set(['localhost', 'metadata.google.internal', 'metadata']);

/** Thrown for a loopback, link-local or metadata destination that no mapping names. */
export class BlockedDestinationError extends MtlsError {
  constructor(readonly host: string) {
    super(
      ErrorCode.ProxyDestinationBlocked,
      `calls to ${host} are refused: loopback, link-local and cloud metadata addresses ` +
        'are reachable only through a mapping that names them',
    );
    this.name = 'BlockedDestinationError';
  }
}

/** True when an IP literal is in a blocked range. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** True when a host, as written in the request, is a blocked name or address. */
export function isBlockedHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return BLOCKED_NAMES.has(name) || name.endsWith('.localhost') || isBlockedAddress(name);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup` that refuses names resolving into a blocked range, so that a harmless-looking
 * name pointing at 127.0.0.1 or 169.254.169.254 cannot slip past the check of the literal host.
 */
export function guardedLookup(
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
): void {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    if (list.some((entry) => isBlockedAddress(entry.address))) {
      return callback(new BlockedDestinationError(hostname), []);
    }
    if (options.all) return callback(null, list);
    callback(null, list[0].address, list[0].family);
  });
}
