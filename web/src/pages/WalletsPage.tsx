import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'wouter';

import { api, call } from '../api/client';
import { useMe, useWallets } from '../live';
import { formatTime } from '../lib/format';

export function WalletsPage() {
  const me = useMe();
  const wallets = useWallets(me.data?.id);
  const networks = useQuery({ queryKey: ['networks'], queryFn: () => call(api.GET('/networks')) });
  const queryClient = useQueryClient();
  const [address, setAddress] = useState('');
  const [label, setLabel] = useState('');
  const [startBlock, setStartBlock] = useState('');
  const add = useMutation({
    mutationFn: () =>
      call(
        api.POST('/wallets', {
          body: {
            address: address.trim(),
            ...(label && { label }),
            ...(startBlock && { start_block: startBlock }),
          },
        }),
      ),
    onSuccess: () => {
      setAddress('');
      setLabel('');
      setStartBlock('');
      void queryClient.invalidateQueries({ queryKey: ['wallets'] });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE('/wallets/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['wallets'] }),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  const enabled = (networks.data ?? []).filter((n) => n.enabled);

  return (
    <main className="page">
      <h1>Wallets</h1>
      <section aria-labelledby="add-wallet">
        <h2 id="add-wallet">Add a wallet</h2>
        <form onSubmit={onSubmit} className="form">
          <label htmlFor="address">Address</label>
          <input
            id="address"
            required
            spellCheck={false}
            autoComplete="off"
            placeholder="0x… (EIP-55 checksum or all lower case)"
            value={address}
            onChange={(e) => setAddress(e.target.value)}
            aria-describedby={add.error ? 'address-error' : undefined}
            aria-invalid={add.error ? true : undefined}
          />
          {add.error && (
            <p id="address-error" className="message error" role="alert">
              {add.error.message}
            </p>
          )}
          <label htmlFor="label">Label</label>
          <input id="label" value={label} maxLength={100} onChange={(e) => setLabel(e.target.value)} />
          <label htmlFor="start-block">Start block (optional, to scan history)</label>
          <input
            id="start-block"
            inputMode="numeric"
            pattern="[0-9]*"
            value={startBlock}
            onChange={(e) => setStartBlock(e.target.value)}
          />
          <p className="hint">
            Watched on every enabled network:{' '}
            {enabled.length > 0 ? enabled.map((n) => `${n.name} (${n.key})`).join(', ') : '—'}
          </p>
          <button type="submit" disabled={add.isPending}>
            Add wallet
          </button>
        </form>
      </section>
      <section aria-labelledby="your-wallets">
        <h2 id="your-wallets">Your wallets</h2>
        {wallets.isPending && <p>Loading…</p>}
        {wallets.data?.length === 0 && <p>No wallets yet.</p>}
        <ul className="cards">
          {wallets.data?.map((wallet) => (
            <li key={wallet.id} className="card">
              <p className="title">{wallet.label ?? 'Wallet'}</p>
              <p className="mono wrap">{wallet.address}</p>
              <p className="muted">
                Added {formatTime(wallet.created_at)}
                {wallet.start_block !== null && ` · from block ${wallet.start_block}`}
              </p>
              <div className="actions">
                <Link href={`/app/wallets/${wallet.id}/deposits`}>Deposits</Link>
                <button
                  type="button"
                  className="danger"
                  onClick={() => remove.mutate(wallet.id)}
                  aria-label={`Remove wallet ${wallet.label ?? wallet.address}`}
                >
                  Remove
                </button>
              </div>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}
