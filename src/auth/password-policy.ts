import { dictionary } from '@zxcvbn-ts/language-common';
import { registerDecorator, type ValidationOptions } from 'class-validator';

/** zxcvbn-ts's list of the most common passwords (≈49k, from breach corpora), lower-case. */
let common: ReadonlySet<string> | undefined;

/** Why `password` may not be used for a new account, or undefined when it may. */
export function passwordProblem(password: string): string | undefined {
  if (password.trim() === '') return 'password must not be only whitespace';
  common ??= new Set(dictionary['passwords-common']);
  if (common.has(password.trim().toLowerCase())) {
    return 'password is one of the most common passwords: choose another';
  }
  return undefined;
}

/** A password that is not blank and not on the common-passwords list (checked at sign-up). */
export function IsAcceptablePassword(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isAcceptablePassword',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: ({ value }) =>
          (typeof value === 'string' ? passwordProblem(value) : undefined) ?? 'password is not acceptable',
        ...options,
      },
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || passwordProblem(value) === undefined,
      },
    });
}
