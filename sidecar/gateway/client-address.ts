import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

import { canonicalAddress } from '../proxy/rate-limit-store';

/**
 * Which address a request comes from, for the per-source rate limit. A request from a trusted
 * proxy (an ingress in front of the gateway) is attributed to the address that proxy saw:
 * X-Forwarded-For is read from the right, past every trusted hop, to the first address that is
 * not one. Anything else is the connection's own address, whatever its headers claim, so that a
 * client cannot choose its own bucket.
 */
export class ClientAddress {
  private readonly trusted: BlockList | undefined;

  /** `cidrs` as `--trusted-proxies` checked them: `address/prefix`, IPv4 or IPv6. */
  constructor(cidrs: readonly string[]) {
    if (cidrs.length === 0) return;
    this.trusted = new BlockList();
    for (const cidr of cidrs) {
      const [address, prefix] = cidr.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      this.trusted.addSubnet(address, Number(prefix), family);
    }
  }

  /** The address the request is counted against. */
  of(req: IncomingMessage): string {
    const peer = canonicalAddress(req.socket.remoteAddress ?? 'unknown');
    if (this.trusted === undefined || !this.isTrusted(peer)) return peer;

    const header = req.headers['x-forwarded-for'];
    if (header === undefined) return peer;
    const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
    let nearest = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = canonicalAddress(hops[i].trim());
      // A hop that is not an address cannot be counted: the last trusted proxy answers for it.
      if (isIP(hop) === 0) return nearest;
      if (!this.isTrusted(hop)) return hop;
      nearest = hop;
    }
    return nearest;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    return (this.trusted as BlockList).check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}
