import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

import type { AuthUser } from './auth-user.js';

export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthUser =>
    context.switchToHttp().getRequest<{ user: AuthUser }>().user,
);
