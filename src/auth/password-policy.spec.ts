import { passwordProblem } from './password-policy.js';

describe('password policy', () => {
  it('refuses the most common passwords, whatever their case', () => {
    for (const password of ['password', 'Password1', '12345678', 'iloveyou', 'QWERTYUIOP']) {
      expect(passwordProblem(password)).toBe('password is one of the most common passwords: choose another');
    }
  });

  it('refuses a password made only of whitespace', () => {
    expect(passwordProblem('        ')).toBe('password must not be only whitespace');
    expect(passwordProblem('\t\n \u00a0  \u3000  ')).toBe('password must not be only whitespace');
  });

  it('accepts an uncommon passphrase', () => {
    expect(passwordProblem('correct horse battery')).toBeUndefined();
    expect(passwordProblem('long enough pw')).toBeUndefined();
  });
});
