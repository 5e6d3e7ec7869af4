import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { api, call, type Delivery, type Webhook, type WebhookEventType } from '../api/client';
import { formatTime } from '../lib/format';

const EVENT_TYPES: Array<[WebhookEventType, string]> = [
  ['deposit_detected', 'Deposit detected'],
  ['confirmation_update', 'Confirmation update'],
  ['deposit_completed', 'Deposit completed'],
  ['deposit_orphaned', 'Deposit orphaned'],
  ['price_alert_triggered', 'Price alert triggered'],
];
const PAGE_SIZE = 20;

/** Status as words: the API's `succeeded` reads "delivered". */
const DELIVERY_STATUS: Record<Delivery['status'], string> = {
  pending: 'pending',
  succeeded: 'delivered',
  failed: 'failed',
};

/** The whsec_ secret of an endpoint, shown once after its creation or a rotation. */
interface ShownSecret {
  url: string;
  secret: string;
  rotated: boolean;
}

export function WebhooksPage() {
  const queryClient = useQueryClient();
  const endpoints = useQuery({ queryKey: ['webhooks'], queryFn: () => call(api.GET('/webhooks')) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['webhooks'] });
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const selected = endpoints.data?.find((e) => e.id === selectedId) ?? endpoints.data?.[0];
  const [shown, setShown] = useState<ShownSecret | null>(null);

  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<WebhookEventType[]>([]);
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/webhooks', {
          body: {
            url: url.trim(),
            ...(description.trim() && { description: description.trim() }),
            ...(types.length > 0 && { event_types: types }),
          },
        }),
      ),
    onSuccess: (created) => {
      setUrl('');
      setDescription('');
      setTypes([]);
      setShown({ url: created.url, secret: created.secret, rotated: false });
      setSelectedId(created.id);
      void refresh();
    },
  });
  const toggle = (type: WebhookEventType) =>
    setTypes((list) => (list.includes(type) ? list.filter((t) => t !== type) : [...list, type]));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };

  return (
    <main className="page">
      <h1>Webhooks</h1>
      <p className="hint">
        Every deposit and price-alert event is POSTed, signed (Standard Webhooks), to your endpoints and
        retried for about a day.
      </p>
      {shown && <SecretNotice shown={shown} onDone={() => setShown(null)} />}
      <section aria-labelledby="add-endpoint">
        <h2 id="add-endpoint">Add an endpoint</h2>
        <form onSubmit={onSubmit} className="form">
          <label htmlFor="webhook-url">URL</label>
          <input
            id="webhook-url"
            type="text"
            inputMode="url"
            required
            spellCheck={false}
            autoComplete="off"
            placeholder="https://example.com/webhooks"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            aria-describedby={create.error ? 'webhook-url-error' : undefined}
            aria-invalid={create.error ? true : undefined}
          />
          {create.error && (
            <p id="webhook-url-error" className="message error" role="alert">
              {create.error.message}
            </p>
          )}
          <label htmlFor="webhook-description">Description</label>
          <input
            id="webhook-description"
            maxLength={500}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
          <fieldset>
            <legend>Event types</legend>
            <p className="hint">None checked: every type, also those added later.</p>
            {EVENT_TYPES.map(([type, text]) => (
              <label key={type} className="inline">
                <input type="checkbox" checked={types.includes(type)} onChange={() => toggle(type)} /> {text}
              </label>
            ))}
          </fieldset>
          <button type="submit" disabled={create.isPending}>
            Add endpoint
          </button>
        </form>
      </section>
      <section aria-labelledby="your-endpoints">
        <h2 id="your-endpoints">Your endpoints</h2>
        {endpoints.isPending && <p>Loading…</p>}
        {endpoints.error && (
          <p className="message error" role="alert">
            {endpoints.error.message}
          </p>
        )}
        {endpoints.data?.length === 0 && <p>No endpoints yet.</p>}
        <ul className="cards" aria-label="Endpoints">
          {endpoints.data?.map((endpoint) => (
            <EndpointCard
              key={endpoint.id}
              endpoint={endpoint}
              selected={endpoint.id === selected?.id}
              onSelect={() => setSelectedId(endpoint.id)}
              onChange={refresh}
              onSecret={(secret) => setShown({ url: endpoint.url, secret, rotated: true })}
            />
          ))}
        </ul>
      </section>
      {selected && <Deliveries key={selected.id} endpoint={selected} />}
    </main>
  );
}

function SecretNotice({ shown, onDone }: { shown: ShownSecret; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    void navigator.clipboard?.writeText(shown.secret).then(() => setCopied(true));
  };
  return (
    <section className="message warn secret" role="status" aria-label="Signing secret">
      <p>
        <strong>{shown.rotated ? 'New signing secret' : 'Signing secret'}</strong> for{' '}
        <span className="wrap">{shown.url}</span>:
      </p>
      <p className="mono wrap" data-testid="webhook-secret">
        {shown.secret}
      </p>
      <p>
        Copy it now: it won’t be shown again.
        {shown.rotated && ' The old secret keeps signing alongside it for a while (24 h by default).'}
      </p>
      <div className="actions">
        <button type="button" className="small" onClick={copy}>
          {copied ? 'Copied' : 'Copy secret'}
        </button>
        <button type="button" className="small" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

function EndpointCard({
  endpoint,
  selected,
  onSelect,
  onChange,
  onSecret,
}: {
  endpoint: Webhook;
  selected: boolean;
  onSelect: () => void;
  onChange: () => unknown;
  onSecret: (secret: string) => void;
}) {
  const queryClient = useQueryClient();
  const path = { params: { path: { id: endpoint.id } } };
  const update = useMutation({
    mutationFn: (enabled: boolean) => call(api.PATCH('/webhooks/{id}', { ...path, body: { enabled } })),
    onSuccess: onChange,
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/webhooks/{id}', path)),
    onSuccess: onChange,
  });
  const test = useMutation({
    mutationFn: () => call(api.POST('/webhooks/{id}/test', path)),
    onSuccess: () => {
      onSelect();
      void queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', endpoint.id] });
    },
  });
  const rotate = useMutation({
    mutationFn: () => call(api.POST('/webhooks/{id}/rotate-secret', path)),
    onSuccess: (rotated) => {
      onSecret(rotated.secret);
      void onChange();
    },
  });
  const error = update.error ?? remove.error ?? test.error ?? rotate.error;
  const status = endpoint.enabled ? 'Enabled' : endpoint.disabled_reason ? 'Disabled' : 'Paused';
  const name = endpoint.description ?? endpoint.url;
  return (
    <li className={`card endpoint${selected ? ' selected' : ''}`} data-endpoint={endpoint.id}>
      <div className="row">
        <p className="title wrap">{endpoint.url}</p>
        <span className={`badge ${endpoint.enabled ? 'ok' : 'warn'}`}>{status}</span>
      </div>
      {endpoint.description && <p>{endpoint.description}</p>}
      {endpoint.disabled_reason && (
        <p className="message warn wrap">Disabled by the service: {endpoint.disabled_reason}</p>
      )}
      <p className="muted">
        Event types: {endpoint.event_types ? endpoint.event_types.join(', ') : 'all'} · added{' '}
        {formatTime(endpoint.created_at)}
        {endpoint.previous_secret_expires_at &&
          ` · old secret signs until ${formatTime(endpoint.previous_secret_expires_at)}`}
      </p>
      {test.isSuccess && (
        <p className="muted" role="status">
          Test message {test.data.message_id} queued.
        </p>
      )}
      {error && (
        <p className="message error" role="alert">
          {error.message}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="small"
          aria-pressed={selected}
          onClick={onSelect}
          aria-label={`Show deliveries of ${name}`}
        >
          Deliveries
        </button>
        <button
          type="button"
          onClick={() => test.mutate()}
          disabled={test.isPending || !endpoint.enabled}
          aria-label={`Send test to ${name}`}
        >
          Send test
        </button>
        <button
          type="button"
          onClick={() => update.mutate(!endpoint.enabled)}
          aria-label={`${endpoint.enabled ? 'Pause' : 'Resume'} ${name}`}
        >
          {endpoint.enabled ? 'Pause' : 'Resume'}
        </button>
        <button type="button" onClick={() => rotate.mutate()} aria-label={`Rotate secret of ${name}`}>
          Rotate secret
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => remove.mutate()}
          aria-label={`Delete ${name}`}
        >
          Delete
        </button>
      </div>
    </li>
  );
}

function Deliveries({ endpoint }: { endpoint: Webhook }) {
  const deliveries = useInfiniteQuery({
    queryKey: ['webhook-deliveries', endpoint.id],
    queryFn: ({ pageParam }) =>
      call(
        api.GET('/webhooks/{id}/deliveries', {
          params: { path: { id: endpoint.id }, query: { limit: PAGE_SIZE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // A message still pending (first attempt due, or a retry) is re-read until it settles.
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((d) => d.status === 'pending')) ? 1_500 : false,
  });
  const items = deliveries.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="deliveries">
      <h2 id="deliveries">
        Deliveries to <span className="wrap">{endpoint.description ?? endpoint.url}</span>
      </h2>
      {deliveries.isPending && <p>Loading…</p>}
      {deliveries.error && (
        <p className="message error" role="alert">
          {deliveries.error.message}
        </p>
      )}
      {deliveries.data && items.length === 0 && <p>No deliveries yet. “Send test” sends one.</p>}
      <ul className="cards" aria-label="Deliveries">
        {items.map((delivery) => (
          <DeliveryCard key={delivery.message_id} endpointId={endpoint.id} delivery={delivery} />
        ))}
      </ul>
      {deliveries.hasNextPage && (
        <div className="actions">
          <button
            type="button"
            onClick={() => void deliveries.fetchNextPage()}
            disabled={deliveries.isFetchingNextPage}
          >
            Load more
          </button>
        </div>
      )}
    </section>
  );
}

function DeliveryCard({ endpointId, delivery }: { endpointId: string; delivery: Delivery }) {
  const queryClient = useQueryClient();
  const redeliver = useMutation({
    mutationFn: () =>
      call(
        api.POST('/webhooks/{id}/deliveries/{message_id}/redeliver', {
          params: { path: { id: endpointId, message_id: delivery.message_id } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', endpointId] }),
  });
  const status = DELIVERY_STATUS[delivery.status];
  return (
    <li className="card delivery" data-message={delivery.message_id}>
      <div className="row">
        <p className="title">{delivery.event_type}</p>
        <span className={`chip ${status}`}>{status}</span>
      </div>
      <dl className="facts">
        <dt>Message</dt>
        <dd className="mono">{delivery.message_id}</dd>
        {delivery.event_id !== null && (
          <>
            <dt>Event</dt>
            <dd>{delivery.event_id}</dd>
          </>
        )}
        <dt>Created</dt>
        <dd>{formatTime(delivery.created_at)}</dd>
        {delivery.next_attempt_at && (
          <>
            <dt>Next attempt</dt>
            <dd>{formatTime(delivery.next_attempt_at)}</dd>
          </>
        )}
      </dl>
      <p className="muted">
        {delivery.attempts.length === 0
          ? 'No attempt yet.'
          : `${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? '' : 's'}:`}
      </p>
      {delivery.attempts.length > 0 && (
        <ol className="attempts" aria-label={`Attempts of ${delivery.message_id}`}>
          {delivery.attempts.map((a, i) => (
            <li key={i}>
              <span>{a.status_code === null ? 'no response' : `HTTP ${a.status_code}`}</span>
              <span> · {a.latency_ms} ms</span>
              <span className="muted"> · {formatTime(a.attempted_at)}</span>
              {a.error && <span className="wrap error-text"> · {a.error}</span>}
            </li>
          ))}
        </ol>
      )}
      {redeliver.error && (
        <p className="message error" role="alert">
          {redeliver.error.message}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="small"
          onClick={() => redeliver.mutate()}
          disabled={redeliver.isPending}
          aria-label={`Redeliver ${delivery.message_id}`}
        >
          Redeliver
        </button>
      </div>
    </li>
  );
}
