import { createHash } from 'node:crypto';

import { ErrorCode } from '../../../core/errors/codes';
import { collectionPath, CoreResources } from '../../../core/kube/api-paths';
import type { KubeClient } from '../../../core/kube/kube-client';
import { GatewayError } from '../gateway-error';
import { ReviewCache } from './review-cache';

/** Who the apiserver says a token belongs to. */
export type KubeUser = {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
};

/** The part of a TokenReview's answer the gateway reads. */
export type TokenReviewAnswer = {
  status?: {
    authenticated?: boolean;
    user?: Partial<KubeUser>;
    audiences?: string[];
    error?: string;
  };
};

/**
 * What a review decided: the token's user, or why the token is refused. `wrong-audience`: the
 * apiserver authenticated the token, but not for any audience the gateway asked about.
 */
export type TokenVerdict =
  | { user: KubeUser }
  | { refused: 'unauthenticated' }
  | { refused: 'wrong-audience'; audiences: string[] };

/**
 * Reads a TokenReview's answer. When the gateway names audiences, the answer must name one of
 * them too: an authenticator that is not audience-aware authenticates the token for the
 * apiserver's own audience and answers with none of the requested ones, which the apiserver
 * does not refuse on its own.
 */
export function readTokenReview(answer: TokenReviewAnswer, requested: string[]): TokenVerdict {
  const status = answer.status;
  if (!status?.authenticated || !status.user?.username) return { refused: 'unauthenticated' };

  const audiences = status.audiences ?? [];
  if (requested.length > 0 && !audiences.some((audience) => requested.includes(audience))) {
    return { refused: 'wrong-audience', audiences };
  }

  const { username, uid, groups, extra } = status.user;
  return { user: { username, uid, groups: groups ?? [], extra } };
}

/** The SHA-256 of a token: the only form of it the gateway keeps, as a cache key. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Asks the apiserver (TokenReview) who a Bearer token belongs to, and remembers the answer,
 * refusals included, for a short while under the token's hash. The token itself is never kept,
 * logged or put in a message.
 */
export class TokenReviewer {
  private readonly cache: ReviewCache<TokenVerdict>;

  constructor(
    private readonly kube: KubeClient,
    private readonly audiences: string[],
    ttlMs: number,
  ) {
    this.cache = new ReviewCache({ ttlMs });
  }

  /** The token's user, or why the gateway does not accept the token. */
  async review(token: string): Promise<TokenVerdict> {
    return this.cache.get(tokenKey(token), () => this.ask(token));
  }

  private async ask(token: string): Promise<TokenVerdict> {
    let answer: TokenReviewAnswer;
    try {
      answer = await this.kube.create<TokenReviewAnswer>(
        collectionPath(CoreResources.tokenReviews),
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, ...(this.audiences.length > 0 ? { audiences: this.audiences } : {}) },
        },
      );
    } catch (err) {
      throw new GatewayError(
        503,
        ErrorCode.AuthUnavailable,
        `the token could not be reviewed: ${(err as Error).message}`,
      );
    }

    return readTokenReview(answer, this.audiences);
  }
}
