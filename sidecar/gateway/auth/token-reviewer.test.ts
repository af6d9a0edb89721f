import { readTokenReview, type TokenReviewAnswer } from './token-reviewer';

// How the gateway reads a TokenReview's answer: pure logic over the answer's status.

const user = { username: 'system:serviceaccount:team:app', uid: 'u-1', groups: ['team'] };

function answer(status: NonNullable<TokenReviewAnswer['status']>): TokenReviewAnswer {
  return { status };
}

describe('readTokenReview', () => {
  it('refuses a token the apiserver does not authenticate', () => {
    expect(readTokenReview(answer({ authenticated: false }), [])).toEqual({
      refused: 'unauthenticated',
    });
    expect(readTokenReview({}, ['mtls-gateway'])).toEqual({ refused: 'unauthenticated' });
    expect(readTokenReview(answer({ authenticated: true, user: {} }), [])).toEqual({
      refused: 'unauthenticated',
    });
  });

  it('takes the user when the gateway names no audience', () => {
    const verdict = readTokenReview(answer({ authenticated: true, user, audiences: ['api'] }), []);
    expect(verdict).toEqual({ user: { ...user, extra: undefined } });
  });

  it('takes the user when the answer names one of the requested audiences', () => {
    const reviewed = answer({ authenticated: true, user, audiences: ['mtls-gateway'] });
    expect(readTokenReview(reviewed, ['other', 'mtls-gateway'])).toEqual({
      user: { ...user, extra: undefined },
    });
  });

  it('refuses an authenticated token whose answer names none of the requested audiences', () => {
    // An authenticator that is not audience-aware answers for the apiserver's own audience.
    const other = answer({ authenticated: true, user, audiences: ['https://kubernetes.default'] });
    expect(readTokenReview(other, ['mtls-gateway'])).toEqual({
      refused: 'wrong-audience',
      audiences: ['https://kubernetes.default'],
    });

    const none = answer({ authenticated: true, user });
    expect(readTokenReview(none, ['mtls-gateway'])).toEqual({
      refused: 'wrong-audience',
      audiences: [],
    });
  });
});
