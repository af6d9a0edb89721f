import type { IncomingMessage } from 'node:http';

import type { ApiAuthPolicy, ApiGroup, AuthScheme } from '../../../core/config/api-auth-policy';
import { ErrorCode, MtlsError } from '../../../core/errors/codes';
import { mediaTypeOf } from '../api/request-body';
import { GatewayError } from '../gateway-error';
import { describePermission, type AccessReviewer, type Permission } from './access-reviewer';
import type { OAuth1RequestVerifier } from './oauth1-contract';
import type { OAuth1Consumer } from './oauth1-verifier';
import { tokenKey, type KubeUser, type TokenReviewer, type TokenVerdict } from './token-reviewer';

/** Who made a request, as proven by one of the schemes. */
export type Caller =
  | { scheme: 'bearer'; user: KubeUser; tokenKey: string }
  | { scheme: 'oauth1'; consumer: OAuth1Consumer };

/** What the gateway authenticates and authorizes with. */
export type GatewayAuthOptions = {
  policy: ApiAuthPolicy;
  tokens: TokenReviewer;
  access: AccessReviewer;
  /** Absent until an OAuth 1.0 verifier is configured: OAuth 1.0 is then refused. */
  oauth1?: OAuth1RequestVerifier;
};

const BEARER = /^Bearer[ \t]+([A-Za-z0-9._~+/-]+=*)[ \t]*$/i;
const OAUTH = /^OAuth(?:[ \t]|$)/i;

const SCHEME_NAMES: Record<AuthScheme, string> = { bearer: 'Bearer', oauth1: 'OAuth' };

/**
 * Authentication and authorization of every gateway request. Bearer tokens are Kubernetes
 * tokens, reviewed by the apiserver, and RBAC decides what their users may do in a namespace;
 * OAuth 1.0 consumers may act for the namespaces their Secret lists. Which scheme an operation
 * takes is the policy's choice (`--api-auth`).
 */
export class GatewayAuth {
  constructor(private readonly options: GatewayAuthOptions) {}

  /** Proves who sent the request, or throws a GatewayError (401, or 503 when reviews fail). */
  async authenticate(
    req: IncomingMessage,
    group: ApiGroup,
    formParameters?: URLSearchParams,
  ): Promise<Caller> {
    const accepted = this.options.policy.schemesFor(group);
    const header = req.headers.authorization;
    const scheme = header === undefined ? undefined : schemeOf(header);
    const oauth1Only = accepted.length === 1 && accepted[0] === 'oauth1';

    if ((oauth1Only || scheme === 'oauth1') && !this.options.oauth1) {
      throw new GatewayError(
        401,
        ErrorCode.OAuthUnavailable,
        `${group} operations take OAuth 1.0 here, and this gateway has no OAuth 1.0 verifier`,
        this.challenge(accepted),
      );
    }
    if (header === undefined) {
      throw new GatewayError(
        401,
        ErrorCode.AuthMissing,
        `${group} operations need an Authorization header (${describe(accepted)})`,
        this.challenge(accepted),
      );
    }
    if (scheme === undefined || !accepted.includes(scheme)) {
      const sent = scheme ? SCHEME_NAMES[scheme] : 'an unknown scheme';
      throw new GatewayError(
        401,
        ErrorCode.AuthSchemeRefused,
        `${group} operations take ${describe(accepted)}, not ${sent}`,
        this.challenge(accepted),
      );
    }

    return scheme === 'bearer'
      ? this.authenticateBearer(header, accepted)
      : this.authenticateOAuth1(req, header, formParameters, accepted);
  }

  /**
   * Whether the caller may do this in the namespace: RBAC for a Bearer caller; an OAuth consumer
   * may do anything in the namespaces its Secret lists. Throws a GatewayError 503 when the
   * review cannot be made.
   */
  async may(caller: Caller, namespace: string, permission: Permission): Promise<boolean> {
    if (caller.scheme === 'oauth1') return caller.consumer.namespaces.includes(namespace);
    return this.options.access.allowed(caller.user, caller.tokenKey, namespace, permission);
  }

  /** Checks that the caller may do this in the namespace, or throws a GatewayError 403. */
  async authorize(caller: Caller, namespace: string, permission: Permission): Promise<void> {
    if (await this.may(caller, namespace, permission)) return;
    if (caller.scheme === 'oauth1') {
      throw new GatewayError(
        403,
        ErrorCode.AuthForbidden,
        `OAuth consumer ${caller.consumer.key} may not act for namespace ${namespace}: ` +
          "add it to the namespaces of the consumer's Secret",
      );
    }

    const { user } = caller;
    throw new GatewayError(
      403,
      ErrorCode.AuthForbidden,
      `${user.username} may not ${describePermission(permission)} in namespace ${namespace}: ` +
        'grant it with a Role and RoleBinding',
    );
  }

  private async authenticateBearer(header: string, accepted: readonly AuthScheme[]) {
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) {
      throw new GatewayError(
        401,
        ErrorCode.AuthInvalid,
        'the Bearer token is malformed',
        this.challenge(accepted),
      );
    }
    const verdict = await this.options.tokens.review(token);
    if ('refused' in verdict) throw this.refusal(verdict, accepted);
    return { scheme: 'bearer' as const, user: verdict.user, tokenKey: tokenKey(token) };
  }

  private async authenticateOAuth1(
    req: IncomingMessage,
    header: string,
    formParameters: URLSearchParams | undefined,
    accepted: readonly AuthScheme[],
  ) {
    // The URL the client signed: the gateway as addressed in Host, and the request target.
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    try {
      const consumer = await this.options.oauth1!.verify({
        method: req.method ?? 'GET',
        url,
        authorization: header,
        formParameters,
      });
      return { scheme: 'oauth1' as const, consumer };
    } catch (err) {
      if (err instanceof MtlsError && err.code.startsWith('OAUTH_')) {
        throw new GatewayError(401, err.code, err.message, this.challenge(accepted));
      }
      throw err;
    }
  }

  private refusal(
    verdict: Exclude<TokenVerdict, { user: KubeUser }>,
    accepted: readonly AuthScheme[],
  ): GatewayError {
    if (verdict.refused === 'unauthenticated') {
      return new GatewayError(
        401,
        ErrorCode.AuthInvalid,
        'the apiserver does not accept this Bearer token: expired, revoked or for another audience',
        this.challenge(accepted),
      );
    }
    const answered = verdict.audiences.length > 0 ? verdict.audiences.join(', ') : 'none';
    return new GatewayError(
      401,
      ErrorCode.AuthWrongAudience,
      `the apiserver authenticates this Bearer token for other audiences (${answered}) than the ` +
        "gateway's: request a token for one of the audiences of --api-audiences",
      this.challenge(accepted),
    );
  }

  private challenge(accepted: readonly AuthScheme[]): Record<string, string> {
    const value = accepted.map((scheme) => `${SCHEME_NAMES[scheme]} realm="mtls-gateway"`);
    return { 'www-authenticate': value.join(', ') };
  }
}

/**
 * True when the request is signed with OAuth 1.0 and carries a form body: the signature covers
 * the form's parameters (RFC 5849 section 3.4.1.3.1), so the body must be read to check it.
 */
export function signsFormBody(req: IncomingMessage): boolean {
  const header = req.headers.authorization;
  if (header === undefined || schemeOf(header) !== 'oauth1') return false;
  return mediaTypeOf(req) === 'application/x-www-form-urlencoded';
}

function schemeOf(header: string): AuthScheme | undefined {
  if (/^Bearer(?:[ \t]|$)/i.test(header)) return 'bearer';
  if (OAUTH.test(header)) return 'oauth1';
  return undefined;
}

function describe(accepted: readonly AuthScheme[]): string {
  return accepted
    .map((scheme) => (scheme === 'bearer' ? 'a Kubernetes Bearer token' : 'an OAuth 1.0 signature'))
    .join(' or ');
}
