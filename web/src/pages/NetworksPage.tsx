import { useQuery } from '@tanstack/react-query';

import { api, call, type Network } from '../api/client';

/** Optional live follower state (GET /networks may add it): shown when present. */
type NetworkWithStatus = Network & { status?: Record<string, unknown> | null };

const FINALITY: Record<Network['finality_rule'], string> = {
  confirmations: 'Completed after the required confirmations',
  finalized: 'Completed when the chain finalizes the block',
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
        {networks.data?.map((network: NetworkWithStatus) => (
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
              {network.status &&
                Object.entries(network.status).map(([key, value]) => (
                  <StatusFact key={key} name={key} value={value} />
                ))}
            </dl>
          </li>
        ))}
      </ul>
    </main>
  );
}

function StatusFact({ name, value }: { name: string; value: unknown }) {
  const text =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : value === null || value === undefined
        ? '—'
        : JSON.stringify(value);
  return (
    <>
      <dt>{name.replaceAll('_', ' ')}</dt>
      <dd className="wrap">{text}</dd>
    </>
  );
}
