/** The nat-table chain that holds every egress rule; OUTPUT jumps to it once. */
export const EGRESS_CHAIN = 'MTLS_EGRESS';

/** What the rules redirect, and whose calls they leave alone. */
export type EgressRulePlan = {
  /** Port of the sidecar proxy the calls are redirected to. */
  proxyPort: number;
  /** User ID of the sidecar: its own calls upstream must leave the pod as they are. */
  proxyUid: number;
  /** TCP destination ports whose calls are redirected. */
  egressPorts: readonly number[];
  /** IPv4 CIDRs whose calls leave unredirected: the cluster's own Services and pods. */
  excludedCidrs?: readonly string[];
};

const JUMP = `-A OUTPUT -j ${EGRESS_CHAIN}`;

/**
 * The jump rules from OUTPUT to the egress chain in an `iptables-save -t nat` listing, as they
 * are written there (and so as `-D` takes them back).
 */
export function jumpsToEgressChain(natListing: string): string[] {
  const jump = new RegExp(`^-A OUTPUT (?:.* )?-j ${EGRESS_CHAIN}$`);
  return natListing
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => jump.test(line));
}

/**
 * Builds the `iptables-restore --noflush` input that sets up transparent egress, given what the
 * nat table holds now. Declaring the chain creates it or empties it, so its rules are always
 * exactly these; of the jumps from OUTPUT exactly one plain jump is left. Applying the result
 * again, to the table it produced, therefore changes nothing.
 */
export function buildEgressRules(plan: EgressRulePlan, natListing = ''): string {
  // The first plain jump stays where it is; every other jump to the chain goes.
  const jumps = jumpsToEgressChain(natListing);
  const kept = jumps.indexOf(JUMP);
  const deletions = jumps.filter((_, at) => at !== kept).map((line) => line.replace(/^-A /, '-D '));

  const lines = [
    '*nat',
    `:${EGRESS_CHAIN} - [0:0]`,

    // The proxy's own upstream calls: redirecting them would send the proxy back to itself.
    `-A ${EGRESS_CHAIN} -m owner --uid-owner ${plan.proxyUid} -j RETURN`,

    // Calls inside the pod (loopback, or the pod's own address, which leaves through lo).
    `-A ${EGRESS_CHAIN} -d 127.0.0.0/8 -j RETURN`,
    `-A ${EGRESS_CHAIN} -o lo -j RETURN`,

    // In-cluster calls: the sidecar only knows mappings for partners outside the cluster.
    ...(plan.excludedCidrs ?? []).map((cidr) => `-A ${EGRESS_CHAIN} -d ${cidr} -j RETURN`),

    ...plan.egressPorts.map(
      (port) =>
        `-A ${EGRESS_CHAIN} -p tcp -m tcp --dport ${port} -j REDIRECT --to-ports ${plan.proxyPort}`,
    ),
    ...deletions,
    ...(kept < 0 ? [JUMP] : []),
    'COMMIT',
  ];
  return `${lines.join('\n')}\n`;
}
