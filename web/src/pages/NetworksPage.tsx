import { useQuery } from '@tanstack/react-query';

import { api, call, type Network } from '../api/client';
import { formatTime } from '../lib/format';

const FINALITY: Record<Network['finality_rule'], string> = {
  confirmations: 'Completed after the required confirmations',
  finalized: 'Completed when the chain finalizes the block',
};

const INTERNAL: Record<string, string> = {
  true: 'Detected',
  false: 'Not seen: the node offers no trace method',
  null: 'Not known yet',
};

/** The follower's state in words; `ok` ones get the green badge (the words carry the meaning). */
const STATE: Record<Network['status']['state'], { text: string; ok: boolean }> = {
  following: { text: 'Following', ok: true },
  catching_up: { text: 'Catching up', ok: true },
  stalled: { text: 'Stalled', ok: false },
  error: { text: 'Error', ok: false },
  disabled: { text: 'Not followed (disabled)', ok: false },
  no_endpoint: { text: 'Not followed (no endpoint)', ok: false },
};

export function NetworksPage() {
  const networks = useQuery({ queryKey: ['networks'], queryFn: () => call(api.GET('/networks')) });
  return (
    <main className="page">
      <h1>Networks</h1>
      {networks.error && (
        <p className="message error" role="alert">
          {networks.error.message}
        </p>
      )}
      <ul className="cards" aria-label="Networks">
        {networks.data?.map((network) => {
          const { status } = network;
          const state = STATE[status.state];
          return (
            <li key={network.key} className="card">
              <div className="row">
                <p className="title">
                  {network.name} <span className="muted">({network.key})</span>
                </p>
                <span className={`badge ${network.enabled ? 'ok' : 'warn'}`}>
                  {network.enabled ? 'Enabled' : 'Disabled'}
                </span>
              </div>
              <dl className="facts">
                <dt>Chain id</dt>
                <dd>{network.chain_id}</dd>
                <dt>Confirmations</dt>
                <dd>{network.required_confirmations}</dd>
                <dt>Finality</dt>
                <dd>{FINALITY[network.finality_rule]}</dd>
                <dt>Native coin</dt>
                <dd>{network.native_symbol}</dd>
                <dt>Block time</dt>
                <dd>{network.block_time_ms / 1000} s</dd>
                <dt>Tokens</dt>
                <dd className="wrap">
                  {network.tokens.length === 0
                    ? 'None'
                    : network.tokens.map((t) => `${t.symbol} (${t.address})`).join(', ')}
                </dd>
                <dt>Internal transfers</dt>
                <dd>{INTERNAL[String(network.internal_transfers)]}</dd>
                <dt>Follower</dt>
                <dd>
                  <span className={`badge ${state.ok ? 'ok' : 'warn'}`}>{state.text}</span>
                </dd>
                <dt>Head / processed</dt>
                <dd>
                  {status.head_block ?? '—'} / {status.cursor_block ?? '—'}
                  {status.lag_blocks !== null && ` (${status.lag_blocks} behind)`}
                </dd>
                <dt>Last block</dt>
                <dd>{formatTime(status.last_block_at)}</dd>
                {status.error && (
                  <>
                    <dt>Error</dt>
                    <dd className="wrap">{status.error}</dd>
                  </>
                )}
              </dl>
            </li>
          );
        })}
      </ul>
    </main>
  );
}
