import { type LoggedEvent, SOCKET_EVENT_NAMES } from '../events/domain-events.js';

/** What a client receives: the event's Socket.IO name is also its `type`. */
export interface SocketEventPayload {
  /** The event_log id: grows in commit order; resume with `since_event_id` = the last one seen. */
  event_id: number;
  type: string;
  data: LoggedEvent['data'];
}

export const toSocketEvent = (event: LoggedEvent): { name: string; payload: SocketEventPayload } => {
  const name = SOCKET_EVENT_NAMES[event.type];
  return { name, payload: { event_id: event.id, type: name, data: event.data } };
};

/** The event id of an emitted packet's data (`[name, payload, offset?]`), if it is one of ours. */
export const eventIdOf = (data: readonly unknown[]): number | undefined => {
  const payload = data[1] as Partial<SocketEventPayload> | undefined;
  return typeof payload?.event_id === 'number' ? payload.event_id : undefined;
};
