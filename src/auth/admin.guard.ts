import {
  applyDecorators,
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import type { AuthUser } from './auth-user.js';

/**
 * Admins are the users whose email is in ADMIN_EMAILS. Runs after the global AuthGuard, so the
 * caller is authenticated (no token is a 401 before this); a user who is not an admin gets 403.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly admins: ReadonlySet<string>;

  constructor(@InjectConfig() config: AppConfig) {
    this.admins = new Set(config.auth.adminEmails);
  }

  canActivate(context: ExecutionContext): boolean {
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    if (!user || !this.admins.has(user.email.toLowerCase()))
      throw new ForbiddenException('this needs an admin (ADMIN_EMAILS)');
    return true;
  }
}

/** An admin-only route: a bearer token of a user listed in ADMIN_EMAILS. */
export const AdminOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    UseGuards(AdminGuard),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'No valid bearer token' }),
    ApiForbiddenResponse({ description: 'The caller is not an admin (ADMIN_EMAILS)' }),
  );
