import { ConfigError, describeOptions, parseOptions, type OptionValues } from './options';
import { integer, oneOf } from './parsers';
import { cidrList } from './sidecar-config';

const port = integer(1, 65535);

/** A comma list of TCP ports such as `80,8080`: at least one, each 1-65535, none twice. */
export function portList(raw: string): number[] {
  const ports: number[] = [];
  for (const item of raw.split(',')) {
    if (item.trim() === '') continue;
    const value = port(item.trim());
    if (ports.includes(value)) throw new Error(`port ${value} is listed twice in '${raw}'`);
    ports.push(value);
  }
  if (ports.length === 0) throw new Error(`expected ports such as 80,8080, got '${raw}'`);
  return ports;
}

/** A comma list of IPv4 CIDRs: the rules are IPv4 nat rules, an IPv6 range would never match. */
export function ipv4CidrList(raw: string): string[] {
  const cidrs = cidrList(raw);
  const ipv6 = cidrs.find((cidr) => cidr.includes(':'));
  if (ipv6) throw new Error(`expected IPv4 CIDRs such as 10.96.0.0/12, got '${ipv6}'`);
  return cidrs;
}

/** Every option of `mtls-egress-init`, with its flag, environment variable and default. */
export const egressOptionTable = {
  proxyPort: {
    flag: 'proxy-port',
    env: 'MTLS_EGRESS_PROXY_PORT',
    description: 'port of the sidecar proxy that redirected calls go to',
    parse: port,
    default: 15001,
  },
  proxyUid: {
    flag: 'proxy-uid',
    env: 'MTLS_EGRESS_PROXY_UID',
    description: 'user ID the sidecar runs as; its own calls are never redirected',
    parse: integer(0, 4_294_967_294),
    default: 1337,
  },
  egressPorts: {
    flag: 'egress-ports',
    env: 'MTLS_EGRESS_PORTS',
    description: 'comma list of TCP destination ports whose calls go through the proxy',
    parse: portList,
    default: [80],
  },
  excludedCidrs: {
    flag: 'excluded-cidrs',
    env: 'MTLS_EGRESS_EXCLUDED_CIDRS',
    description: 'comma list of IPv4 CIDRs whose calls are never redirected (in-cluster ranges)',
    parse: ipv4CidrList,
    default: [] as string[],
  },
  iptables: {
    flag: 'iptables',
    env: 'MTLS_EGRESS_IPTABLES',
    description: 'iptables, iptables-nft or iptables-legacy: whose -save and -restore are run',
    parse: oneOf('iptables', 'iptables-nft', 'iptables-legacy'),
    default: 'iptables' as const,
  },
  logLevel: {
    flag: 'log-level',
    env: 'MTLS_LOG_LEVEL',
    description: 'error, warn, info or debug',
    parse: oneOf('error', 'warn', 'info', 'debug'),
    default: 'info' as const,
  },
};

/** The parsed configuration of `mtls-egress-init`. */
export type EgressConfig = OptionValues<typeof egressOptionTable>;

/** What the command line asked for: apply rules with a configuration, or print the help text. */
export type EgressInvocation = { help: true; text: string } | { help: false; config: EgressConfig };

const USAGE = `Usage: mtls-egress-init [options]

Runs once as a pod's init container (root, with NET_ADMIN and NET_RAW). Adds nat-table rules
in the pod's network namespace, in the chain MTLS_EGRESS jumped to from OUTPUT: TCP calls to
the egress ports, except those of the proxy's user, those to loopback or the pod itself and
those to the excluded CIDRs, are redirected to the sidecar proxy port. Running it again
leaves the same rules.

Options:
`;

/** Reads the init program's configuration from flags and environment and checks it is coherent. */
export function loadEgressConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): EgressInvocation {
  if (argv.includes('--help') || argv.includes('-h')) {
    return { help: true, text: `${USAGE}${describeOptions(egressOptionTable)}` };
  }

  const config = parseOptions(egressOptionTable, argv, env);

  // Redirecting calls to the port they are redirected to means the two flags were confused.
  if (config.egressPorts.includes(config.proxyPort)) {
    throw new ConfigError(
      `--egress-ports must not include the proxy port ${config.proxyPort} (--proxy-port)`,
    );
  }
  return { help: false, config };
}
