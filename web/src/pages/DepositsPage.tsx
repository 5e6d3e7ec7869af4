import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';

import { api, call, type Deposit } from '../api/client';
import { useLive, useMe, useWallets } from '../live';
import { type DepositView, mergeDeposits } from '../lib/deposit-events';
import { txUrl } from '../lib/explorers';
import { formatAmount, formatTime, shortHex } from '../lib/format';

const PAGE_SIZE = 20;

/** Deposits across all wallets, or one wallet's (`walletId`), newest first, live. */
export function DepositsPage({ walletId }: { walletId?: string }) {
  const me = useMe();
  const wallets = useWallets(me.data?.id);
  const wallet = wallets.data?.find((w) => w.id === walletId);
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = useQuery({
    queryKey: ['deposits', walletId ?? 'all', cursor],
    queryFn: () =>
      walletId
        ? call(
            api.GET('/deposits/wallet/{wallet_id}', {
              params: { path: { wallet_id: walletId }, query: { limit: PAGE_SIZE, cursor } },
            }),
          )
        : call(api.GET('/deposits', { params: { query: { limit: PAGE_SIZE, cursor } } })),
  });
  const live = useLive();
  const rows = mergeDeposits(page.data?.items ?? [], live.deposits, {
    firstPage: cursor === undefined,
    wallet: walletId === undefined ? undefined : (wallet?.address.toLowerCase() ?? '-'),
  });
  const title = walletId
    ? `Deposits to ${wallet?.label ?? (wallet ? shortHex(wallet.address) : 'wallet')}`
    : 'Deposits';

  return (
    <main className="page">
      <h1>{title}</h1>
      {walletId && (
        <p>
          <Link href="/app/deposits">All wallets</Link>
        </p>
      )}
      {wallets.data?.length === 0 && (
        <p>
          No wallets yet: <Link href="/app/wallets">add a wallet</Link> to see its deposits here.
        </p>
      )}
      {page.isPending && <p>Loading…</p>}
      {page.error && (
        <p className="message error" role="alert">
          {page.error.message}
        </p>
      )}
      {page.data && rows.length === 0 && <p>No deposits yet. They appear here as soon as they are mined.</p>}
      <ul className="cards" aria-label="Deposits">
        {rows.map((row) => (
          <DepositCard key={row.id} deposit={row} />
        ))}
      </ul>
      <div className="actions">
        {cursors.length > 0 && (
          <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))}>
            Newer deposits
          </button>
        )}
        {page.data?.next_cursor && (
          <button type="button" onClick={() => setCursors((c) => [...c, page.data.next_cursor!])}>
            Older deposits
          </button>
        )}
      </div>
    </main>
  );
}

const STATUS_TEXT: Record<Deposit['status'], string> = {
  pending: 'Pending',
  completed: 'Completed',
  orphaned: 'Orphaned (dropped by a reorg)',
};

function DepositCard({ deposit }: { deposit: DepositView }) {
  const explorer = txUrl(deposit.chain_id, deposit.tx_hash);
  const shown = Math.min(deposit.confirmations, deposit.required_confirmations);
  const [copied, setCopied] = useState(false);
  const copy = () => {
    void navigator.clipboard?.writeText(deposit.tx_hash).then(() => setCopied(true));
  };
  return (
    <li className={`card deposit ${deposit.status}`} data-tx={deposit.tx_hash}>
      <div className="row">
        <p className="title">
          {formatAmount(deposit.amount)} {deposit.asset.symbol}
        </p>
        <span className={`chip ${deposit.status}`}>{STATUS_TEXT[deposit.status]}</span>
      </div>
      <dl className="facts">
        <dt>Network</dt>
        <dd>{deposit.network}</dd>
        <dt>From</dt>
        <dd className="mono" title={deposit.from_address}>
          {shortHex(deposit.from_address)}
        </dd>
        <dt>To</dt>
        <dd className="mono" title={deposit.wallet_address}>
          {shortHex(deposit.wallet_address)}
        </dd>
        <dt>Tx</dt>
        <dd className="mono">
          {explorer ? (
            <a href={explorer} target="_blank" rel="noreferrer" title={deposit.tx_hash}>
              {shortHex(deposit.tx_hash)}
            </a>
          ) : (
            <span title={deposit.tx_hash}>{shortHex(deposit.tx_hash)}</span>
          )}{' '}
          <button type="button" className="small" onClick={copy} aria-label="Copy transaction hash">
            {copied ? 'Copied' : 'Copy'}
          </button>
        </dd>
        <dt>Block</dt>
        <dd>{deposit.block_number}</dd>
        {deposit.detected_at && (
          <>
            <dt>Detected</dt>
            <dd>{formatTime(deposit.detected_at)}</dd>
          </>
        )}
      </dl>
      <div className="confirmations">
        <span id={`conf-${deposit.id}`}>Confirmations</span>
        <progress
          aria-labelledby={`conf-${deposit.id}`}
          aria-valuetext={`${deposit.confirmations} / ${deposit.required_confirmations}`}
          max={deposit.required_confirmations}
          value={deposit.status === 'orphaned' ? 0 : shown}
        />
        <span className="count">
          {deposit.confirmations} / {deposit.required_confirmations}
        </span>
      </div>
    </li>
  );
}
