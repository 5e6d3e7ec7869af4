import createClient, { type Middleware } from 'openapi-fetch';

import type { components, paths } from '../generated/api';
import { EXPIRED_MESSAGE, session } from './session';

/** Types generated from the service's own OpenAPI document (npm run build:web-api). */
export type Schemas = components['schemas'];
export type Wallet = Schemas['WalletResponseDto'];
export type Deposit = Schemas['DepositResponseDto'];
export type Network = Schemas['NetworkResponseDto'];
export type Alert = Schemas['AlertResponseDto'];
export type Firing = Schemas['FiringResponseDto'];
export type PricePoint = Schemas['PricePointDto'];
export type Condition = Schemas['CreateAlertDto']['condition'];
export type Webhook = Schemas['WebhookResponseDto'];
export type Delivery = Schemas['DeliveryDto'];
export type WebhookEventType = NonNullable<Schemas['CreateWebhookDto']['event_types']>[number];

/** Adds the bearer token; a 401 on an authenticated call ends the session with a message. */
const auth: Middleware = {
  onRequest({ request }) {
    const token = session.get()?.token;
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('Authorization')) session.end(EXPIRED_MESSAGE);
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** The API's error body `{ statusCode, error, message }` (message: a string or one per field). */
export function errorText(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return 'Something went wrong; try again.';
}

/** Unwraps an openapi-fetch result: the data, or an Error carrying the API's message. */
export async function call<T>(
  promise: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await promise;
  if (error !== undefined || !response.ok) throw new Error(errorText(error));
  return data as T;
}
