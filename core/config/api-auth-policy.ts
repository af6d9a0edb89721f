/** The ways a caller of the gateway proves who it is. */
export type AuthScheme = 'bearer' | 'oauth1';

/** The groups of gateway operations that share an authentication policy. */
export const API_GROUPS = ['check', 'certificates', 'mappings', 'p12', 'forward'] as const;

/** One group of gateway operations. */
export type ApiGroup = (typeof API_GROUPS)[number];

const SCHEMES: readonly AuthScheme[] = ['bearer', 'oauth1'];

// The hosted service's split: partners' systems check configuration with OAuth 1.0, people and
// pipelines manage certificates with Kubernetes tokens, and forwarding takes either.
const DEFAULTS: Record<ApiGroup, readonly AuthScheme[]> = {
  check: ['oauth1'],
  certificates: ['bearer'],
  mappings: ['bearer'],
  p12: ['bearer'],
  forward: ['bearer', 'oauth1'],
};

/** Which authentication schemes each group of gateway operations accepts. */
export class ApiAuthPolicy {
  private constructor(private readonly schemes: Record<ApiGroup, readonly AuthScheme[]>) {}

  /** The policy of the hosted service: see DEFAULTS. */
  static readonly defaults = new ApiAuthPolicy(DEFAULTS);

  /**
   * Reads `group=scheme[+scheme],...`, e.g. `check=oauth1+bearer,forward=bearer`; groups not
   * named keep their default. Throws an Error naming the bad part.
   */
  static parse(raw: string): ApiAuthPolicy {
    const schemes = { ...DEFAULTS };
    for (const part of raw.split(',')) {
      if (part.trim() === '') continue;
      const [group, list] = part.split('=').map((text) => text.trim());
      if (!(API_GROUPS as readonly string[]).includes(group) || list === undefined) {
        throw new Error(
          `expected group=scheme[+scheme] with a group among ${API_GROUPS.join(', ')}, ` +
            `got '${part.trim()}'`,
        );
      }
      const named = list.split('+').map((scheme) => scheme.trim());
      const unknown = named.find((scheme) => !(SCHEMES as string[]).includes(scheme));
      if (unknown !== undefined) {
        throw new Error(`unknown scheme '${unknown}' for ${group}: expected bearer or oauth1`);
      }
      schemes[group as ApiGroup] = [...new Set(named as AuthScheme[])];
    }
    return new ApiAuthPolicy(schemes);
  }

  /** The schemes a group accepts, in the order given. */
  schemesFor(group: ApiGroup): readonly AuthScheme[] {
    return this.schemes[group];
  }

  /** The policy in the form `parse` reads. */
  toString(): string {
    return API_GROUPS.map((group) => `${group}=${this.schemes[group].join('+')}`).join(',');
  }
}
