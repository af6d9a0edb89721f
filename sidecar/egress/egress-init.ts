import type { EgressConfig } from '../../core/config/egress-config';
import type { Logger } from '../../core/log/logger';
import { buildEgressRules, EGRESS_CHAIN } from './egress-rules';
import { runIptables } from './iptables';

/** What was applied, for the log and for callers that want to show it. */
export type AppliedEgress = { chain: string; rules: string };

/**
 * Sets up transparent egress in the current network namespace: reads the nat table, builds the
 * rules for what it holds, and applies them in one `iptables-restore --noflush` transaction, so
 * rules of others in the table stay and a failure leaves the table as it was.
 */
export async function applyEgressRules(
  config: Pick<
    EgressConfig,
    'proxyPort' | 'proxyUid' | 'egressPorts' | 'excludedCidrs' | 'iptables'
  >,
  log: Logger,
): Promise<AppliedEgress> {
  const natListing = await runIptables(`${config.iptables}-save`, ['-t', 'nat']);
  const rules = buildEgressRules(config, natListing);

  log.debug('applying egress rules', { rules });
  await runIptables(`${config.iptables}-restore`, ['--noflush'], rules);

  log.info('egress rules applied', {
    chain: EGRESS_CHAIN,
    proxyPort: config.proxyPort,
    proxyUid: config.proxyUid,
    egressPorts: config.egressPorts,
    excludedCidrs: config.excludedCidrs,
  });
  return { chain: EGRESS_CHAIN, rules };
}
