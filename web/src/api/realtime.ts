import { io, type Socket } from 'socket.io-client';

import { type DepositEvent, DEPOSIT_EVENT_NAMES } from '../lib/deposit-events';
import { EXPIRED_MESSAGE, session } from './session';

/** Same origin, path /ws: the wallet/user namespace needs the token; /prices is public. */
const SOCKET_PATH = '/ws';

export interface AlertNotice {
  event_id: number;
  data: {
    alerts: Array<{
      firing_id: string;
      symbol: string;
      condition: string;
      threshold: string;
      price: string;
      triggered_at: string;
    }>;
  };
}

export interface UserSocketHandlers {
  onDeposit(event: DepositEvent): void;
  onAlert(notice: AlertNotice): void;
  onStatus(connected: boolean): void;
  /** A wallet room was joined: anything that happened before the join is in REST, so refetch. */
  onSubscribed(): void;
}

/**
 * The authenticated socket: the user's room (price alerts) is joined on connect; wallet rooms are
 * joined with `subscribe`, from `since()` (the last event_id seen), so a reconnect that did not
 * recover its session replays exactly what was missed.
 */
export function connectUserSocket(
  token: string,
  handlers: UserSocketHandlers,
  since: () => number,
): { socket: Socket; watch(addresses: readonly string[]): void; close(): void } {
  const socket = io({ path: SOCKET_PATH, auth: { token }, transports: ['websocket'] });
  let watched: readonly string[] = [];
  const subscribe = (addresses: readonly string[]) => {
    const from = since();
    for (const wallet_address of addresses) {
      socket.emit(
        'subscribe',
        from > 0 ? { wallet_address, since_event_id: from } : { wallet_address },
        (ack: { ok: boolean }) => {
          if (ack.ok) handlers.onSubscribed();
        },
      );
    }
  };
  socket.on('connect', () => {
    handlers.onStatus(true);
    // A recovered session is back in its rooms with its missed events already sent.
    if (!socket.recovered) subscribe(watched);
  });
  socket.on('disconnect', () => handlers.onStatus(false));
  socket.on('connect_error', (error) => {
    handlers.onStatus(false);
    if (error.message.startsWith('unauthorized')) session.end(EXPIRED_MESSAGE);
  });
  socket.on('session_expired', () => session.end(EXPIRED_MESSAGE));
  for (const name of DEPOSIT_EVENT_NAMES) socket.on(name, (event: DepositEvent) => handlers.onDeposit(event));
  socket.on('price_alert_triggered', (notice: AlertNotice) => handlers.onAlert(notice));
  return {
    socket,
    watch(addresses) {
      const added = addresses.filter((a) => !watched.includes(a));
      watched = [...addresses];
      if (socket.connected) subscribe(added);
    },
    close: () => socket.close(),
  };
}

export const connectPriceSocket = (): Socket =>
  io('/prices', { path: SOCKET_PATH, transports: ['websocket'] });
