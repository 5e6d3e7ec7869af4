import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';

import { type Alert, api, call, type Condition, type Firing } from '../api/client';
import { formatPrice, formatTime } from '../lib/format';

const CONDITIONS: Array<[Condition, string]> = [
  ['above', 'Price is above'],
  ['below', 'Price is below'],
  ['crosses_up', 'Price crosses up through'],
  ['crosses_down', 'Price crosses down through'],
  ['pct_change', 'Price changes by % within a window'],
];
const conditionText = (c: Condition) => CONDITIONS.find(([value]) => value === c)?.[1] ?? c;
type Channel = 'email' | 'socket';

export function AlertsPage() {
  const queryClient = useQueryClient();
  const prices = useQuery({ queryKey: ['prices'], queryFn: () => call(api.GET('/prices')) });
  const alerts = useQuery({ queryKey: ['alerts'], queryFn: () => call(api.GET('/alerts')) });
  const history = useQuery({
    queryKey: ['history'],
    queryFn: () => call(api.GET('/alerts/history')),
    // A delivery still pending (an email being retried) is re-read until it is sent or failed.
    refetchInterval: (query) =>
      query.state.data?.items.some((f) => f.deliveries.some((d) => d.status === 'pending')) ? 2_000 : false,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['alerts'] });

  const [symbol, setSymbol] = useState('');
  const [condition, setCondition] = useState<Condition>('above');
  const [threshold, setThreshold] = useState('');
  const [windowSeconds, setWindowSeconds] = useState('300');
  const [cooldown, setCooldown] = useState('');
  const [channels, setChannels] = useState<Channel[]>(['socket']);
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/alerts', {
          body: {
            symbol: symbol || (prices.data?.[0]?.symbol ?? ''),
            condition,
            threshold: threshold.trim(),
            channels,
            ...(condition === 'pct_change' && { window_seconds: Number(windowSeconds) }),
            ...(cooldown !== '' && { cooldown_seconds: Number(cooldown) }),
          },
        }),
      ),
    onSuccess: () => {
      setThreshold('');
      void refresh();
    },
  });
  const toggle = (channel: Channel) =>
    setChannels((list) => (list.includes(channel) ? list.filter((c) => c !== channel) : [...list, channel]));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };

  return (
    <main className="page">
      <h1>Price alerts</h1>
      <section aria-labelledby="new-alert">
        <h2 id="new-alert">New alert</h2>
        <form onSubmit={onSubmit} className="form">
          <label htmlFor="symbol">Symbol</label>
          <select id="symbol" value={symbol} onChange={(e) => setSymbol(e.target.value)}>
            {prices.data?.map((p) => (
              <option key={p.symbol} value={p.symbol}>
                {p.symbol}
              </option>
            ))}
          </select>
          <label htmlFor="condition">Condition</label>
          <select
            id="condition"
            value={condition}
            onChange={(e) => setCondition(e.target.value as Condition)}
          >
            {CONDITIONS.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
          <label htmlFor="threshold">
            Threshold{condition === 'pct_change' ? ' (percent, e.g. -5)' : ' (price)'}
          </label>
          <input
            id="threshold"
            required
            inputMode="decimal"
            value={threshold}
            onChange={(e) => setThreshold(e.target.value)}
          />
          {condition === 'pct_change' && (
            <>
              <label htmlFor="window">Window (seconds)</label>
              <input
                id="window"
                inputMode="numeric"
                value={windowSeconds}
                onChange={(e) => setWindowSeconds(e.target.value)}
              />
            </>
          )}
          <label htmlFor="cooldown">Cooldown (seconds, optional)</label>
          <input
            id="cooldown"
            inputMode="numeric"
            value={cooldown}
            onChange={(e) => setCooldown(e.target.value)}
          />
          <fieldset>
            <legend>Channels</legend>
            <label className="inline">
              <input
                type="checkbox"
                checked={channels.includes('socket')}
                onChange={() => toggle('socket')}
              />{' '}
              In the app
            </label>
            <label className="inline">
              <input type="checkbox" checked={channels.includes('email')} onChange={() => toggle('email')} />{' '}
              Email
            </label>
          </fieldset>
          {create.error && (
            <p className="message error" role="alert">
              {create.error.message}
            </p>
          )}
          <button type="submit" disabled={create.isPending}>
            Create alert
          </button>
        </form>
      </section>
      <section aria-labelledby="your-alerts">
        <h2 id="your-alerts">Your alerts</h2>
        {alerts.data?.length === 0 && <p>No alerts yet.</p>}
        <ul className="cards">
          {alerts.data?.map((alert) => (
            <AlertCard key={alert.id} alert={alert} onChange={refresh} />
          ))}
        </ul>
      </section>
      <section aria-labelledby="history">
        <h2 id="history">History</h2>
        {history.data?.items.length === 0 && <p>No alert has fired yet.</p>}
        <ul className="cards" aria-label="Alert history">
          {history.data?.items.map((firing) => (
            <FiringCard key={firing.id} firing={firing} />
          ))}
        </ul>
      </section>
    </main>
  );
}

function AlertCard({ alert, onChange }: { alert: Alert; onChange: () => unknown }) {
  const [threshold, setThreshold] = useState(alert.threshold);
  const update = useMutation({
    mutationFn: (body: { active?: boolean; threshold?: string }) =>
      call(api.PATCH('/alerts/{id}', { params: { path: { id: alert.id } }, body })),
    onSuccess: onChange,
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/alerts/{id}', { params: { path: { id: alert.id } } })),
    onSuccess: onChange,
  });
  const name = `${alert.symbol} ${conditionText(alert.condition).toLowerCase()} ${alert.threshold}`;
  const inputId = `threshold-${alert.id}`;
  return (
    <li className="card">
      <div className="row">
        <p className="title">
          {alert.symbol}: {conditionText(alert.condition)} {alert.threshold}
          {alert.condition === 'pct_change' && ` % in ${alert.window_seconds} s`}
        </p>
        <span className={`badge ${alert.active ? 'ok' : 'warn'}`}>{alert.active ? 'Active' : 'Paused'}</span>
      </div>
      <p className="muted">
        Channels: {alert.channels.join(', ')} · cooldown {alert.cooldown_seconds} s · last fired{' '}
        {formatTime(alert.last_triggered_at)}
      </p>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate({ threshold: threshold.trim() });
        }}
      >
        <label htmlFor={inputId}>Threshold</label>
        <input
          id={inputId}
          inputMode="decimal"
          value={threshold}
          onChange={(e) => setThreshold(e.target.value)}
        />
        <button type="submit">Save threshold</button>
      </form>
      {(update.error ?? remove.error) && (
        <p className="message error" role="alert">
          {(update.error ?? remove.error)!.message}
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          onClick={() => update.mutate({ active: !alert.active })}
          aria-label={`${alert.active ? 'Pause' : 'Resume'} ${name}`}
        >
          {alert.active ? 'Pause' : 'Resume'}
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

const DELIVERY: Record<Firing['deliveries'][number]['status'], string> = {
  pending: 'pending',
  sent: 'sent',
  failed: 'failed',
};

function FiringCard({ firing }: { firing: Firing }) {
  return (
    <li className="card firing">
      <p className="title">
        {firing.symbol} {conditionText(firing.condition).toLowerCase()} {firing.threshold}
      </p>
      <dl className="facts">
        <dt>Price</dt>
        <dd>{formatPrice(firing.price)}</dd>
        <dt>Fired</dt>
        <dd>{formatTime(firing.triggered_at)}</dd>
        {firing.deliveries.map((d) => (
          <DeliveryFact key={d.id} channel={d.channel} status={DELIVERY[d.status]} error={d.last_error} />
        ))}
      </dl>
    </li>
  );
}

function DeliveryFact({ channel, status, error }: { channel: string; status: string; error: string | null }) {
  return (
    <>
      <dt>{channel === 'socket' ? 'In app' : 'Email'}</dt>
      <dd>
        <span className={`chip ${status}`}>{status}</span>
        {error && <span className="muted"> {error}</span>}
      </dd>
    </>
  );
}
