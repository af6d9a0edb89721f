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

type TokenReviewAnswer = {
  status?: { authenticated?: boolean; user?: Partial<KubeUser>; error?: string };
};

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
  private readonly cache: ReviewCache<KubeUser | null>;

  constructor(
    private readonly kube: KubeClient,
    private readonly audiences: string[],
    ttlMs: number,
  ) {
    this.cache = new ReviewCache({ ttlMs });
  }

  /** The token's user, or undefined when the apiserver does not accept the token. */
  async review(token: string): Promise<KubeUser | undefined> {
    const user = await this.cache.get(tokenKey(token), () => this.ask(token));
    return user ?? undefined;
  }

  private async ask(token: string): Promise<KubeUser | null> {
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

    const status = answer.status;
    if (!status?.authenticated || !status.user?.username) return null;
    const { username, uid, groups, extra } = status.user;
    return { username, uid, groups: groups ?? [], extra };
  }
}
