import { ErrorCode } from '../../../core/errors/codes';
import { collectionPath, CoreResources } from '../../../core/kube/api-paths';
import type { KubeClient } from '../../../core/kube/kube-client';
import { GROUP } from '../../../core/resources/types';
import { GatewayError } from '../gateway-error';
import { ReviewCache } from './review-cache';
import type { KubeUser } from './token-reviewer';

/** A verb on one of the project's resources, as RBAC grants it. */
export type Permission = {
  verb: string;
  resource: 'mtlscertificates' | 'mtlsmappings';
};

/** How a permission reads in messages and in the docs: `create mtlscertificates.mtls.io`. */
export function describePermission(permission: Permission): string {
  return `${permission.verb} ${permission.resource}.${GROUP}`;
}

type AccessReviewAnswer = { status?: { allowed?: boolean; reason?: string } };

/**
 * Asks the apiserver (SubjectAccessReview) whether a user may use a verb on a resource in a
 * namespace, so that the cluster's RBAC governs the API; answers are reused for a short while.
 */
export class AccessReviewer {
  private readonly cache: ReviewCache<boolean>;

  constructor(
    private readonly kube: KubeClient,
    ttlMs: number,
  ) {
    this.cache = new ReviewCache({ ttlMs });
  }

  /** True when RBAC allows it. `userKey` identifies the user in the cache (the token's hash). */
  allowed(
    user: KubeUser,
    userKey: string,
    namespace: string,
    permission: Permission,
  ): Promise<boolean> {
    const key = JSON.stringify([userKey, namespace, permission.verb, permission.resource]);
    return this.cache.get(key, () => this.ask(user, namespace, permission));
  }

  private async ask(user: KubeUser, namespace: string, permission: Permission): Promise<boolean> {
    try {
      const answer = await this.kube.create<AccessReviewAnswer>(
        collectionPath(CoreResources.subjectAccessReviews),
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            resourceAttributes: {
              namespace,
              verb: permission.verb,
              group: GROUP,
              resource: permission.resource,
            },
          },
        },
      );
      return answer.status?.allowed === true;
    } catch (err) {
      throw new GatewayError(
        503,
        ErrorCode.AuthUnavailable,
        `the access of ${user.username} could not be reviewed: ${(err as Error).message}`,
      );
    }
  }
}
