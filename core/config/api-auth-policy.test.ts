import { ApiAuthPolicy } from './api-auth-policy';

describe('ApiAuthPolicy', () => {
  it('has the hosted service split by default', () => {
    expect(ApiAuthPolicy.defaults.toString()).toBe(
      'check=oauth1,certificates=bearer,mappings=bearer,p12=bearer,forward=bearer+oauth1',
    );
  });

  it('changes the groups named and keeps the others', () => {
    const policy = ApiAuthPolicy.parse(' check = bearer+oauth1 , forward=bearer ');
    expect(policy.schemesFor('check')).toEqual(['bearer', 'oauth1']);
    expect(policy.schemesFor('forward')).toEqual(['bearer']);
    expect(policy.schemesFor('p12')).toEqual(['bearer']);
    expect(ApiAuthPolicy.parse(policy.toString()).toString()).toBe(policy.toString());
  });

  it('names the part it cannot read', () => {
    expect(() => ApiAuthPolicy.parse('checks=bearer')).toThrow(/got 'checks=bearer'/);
    expect(() => ApiAuthPolicy.parse('check')).toThrow(/group=scheme/);
    expect(() => ApiAuthPolicy.parse('p12=basic')).toThrow(/unknown scheme 'basic' for p12/);
  });
});
