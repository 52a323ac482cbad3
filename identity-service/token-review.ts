// Authenticating a proxy's token the way Linkerd's identity service does: a TokenReview on
// the local API server, scoped to the identity audience so a token minted for anything else
// (the API server, another service) cannot be replayed here.
import { AuthenticationV1Api, type KubeConfig, type V1TokenReview } from '@kubernetes/client-node';
import { IDENTITY_TOKEN_AUDIENCE } from '../identity/certify-protocol.ts';
import { apiErrorMessage } from '../kube/client.ts';
import { TokenNotAuthenticatedError, TokenReviewUnavailableError } from './refusals.ts';

export interface TokenReviewer {
  /** The authenticated username; throws TokenNotAuthenticatedError or TokenReviewUnavailableError. */
  authenticate(token: string): Promise<string>;
}

export class KubeTokenReviewer implements TokenReviewer {
  readonly #api: AuthenticationV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly audiences: readonly string[] = [IDENTITY_TOKEN_AUDIENCE],
  ) {
    this.#api = kubeConfig.makeApiClient(AuthenticationV1Api);
  }

  async authenticate(token: string): Promise<string> {
    let review: V1TokenReview;
    try {
      review = await this.#api.createTokenReview({ body: { spec: { token, audiences: [...this.audiences] } } });
    } catch (err) {
      throw new TokenReviewUnavailableError(
        `the Kubernetes TokenReview API failed (${apiErrorMessage(err)}): check that the API server is reachable and that the ` +
          "identity service's ServiceAccount may create tokenreviews (ClusterRole system:auth-delegator); the proxy will retry",
        { cause: err },
      );
    }
    return usernameOf(review, this.audiences);
  }
}

export function usernameOf(review: V1TokenReview, audiences: readonly string[]): string {
  const s = review.status;
  if (s?.authenticated !== true) {
    const why = s?.error !== undefined && s.error !== '' ? s.error : 'the token is not authenticated';
    throw new TokenNotAuthenticatedError(
      `the Kubernetes API server rejected the token: ${why}; send the pod's current projected ServiceAccount token ` +
        `requested with audience "${audiences.join('", "')}" (an expired token, one for another audience or one of a ` +
        'deleted pod or ServiceAccount is refused)',
    );
  }
  // An audience-less review would accept API-server tokens; insist the server confirmed ours.
  if (s.audiences !== undefined && !s.audiences.some((a) => audiences.includes(a))) {
    throw new TokenNotAuthenticatedError(
      `the Kubernetes API server authenticated the token only for audiences ${JSON.stringify(s.audiences)}: ` +
        `request the token with audience "${audiences.join('", "')}"`,
    );
  }
  return s.user?.username ?? '';
}
