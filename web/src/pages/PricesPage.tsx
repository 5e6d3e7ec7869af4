import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';

import { api, call, type PricePoint } from '../api/client';
import { connectPriceSocket } from '../api/realtime';
import { PriceChart } from '../components/PriceChart';
import { formatPercent, formatPrice, formatTime } from '../lib/format';

const recentKey = (symbol: string) => ['prices', symbol, 'recent'];

/** Latest prices over the public stream (Socket.IO /prices), a chart of the chosen symbol. */
export function PricesPage() {
  const queryClient = useQueryClient();
  const prices = useQuery({
    queryKey: ['prices'],
    queryFn: () => call(api.GET('/prices')),
    refetchInterval: 10_000,
  });
  const [latest, setLatest] = useState<Record<string, PricePoint>>({});
  const [connected, setConnected] = useState(false);
  const [selected, setSelected] = useState<string | undefined>();
  const symbol = selected ?? prices.data?.[0]?.symbol;

  useEffect(() => {
    const socket = connectPriceSocket();
    socket.on('connect', () => setConnected(true));
    socket.on('disconnect', () => setConnected(false));
    socket.on('connect_error', () => setConnected(false));
    socket.on('price', (point: PricePoint) => {
      setLatest((all) => ({ ...all, [point.symbol]: point }));
      queryClient.setQueryData(recentKey(point.symbol), (data: { points: PricePoint[] } | undefined) =>
        data && data.points.at(-1)?.exchange_time !== point.exchange_time
          ? { ...data, points: [...data.points, point].slice(-900) }
          : data,
      );
    });
    return () => {
      socket.close();
    };
  }, [queryClient]);

  const recent = useQuery({
    queryKey: recentKey(symbol ?? ''),
    enabled: symbol !== undefined,
    queryFn: () => call(api.GET('/prices/{symbol}/recent', { params: { path: { symbol: symbol! } } })),
    staleTime: Infinity,
  });

  return (
    <main className="page">
      <h1>Prices</h1>
      <p>
        Feed:{' '}
        <span className={`badge ${connected ? 'ok' : 'warn'}`} role="status">
          {connected ? 'Live' : 'Disconnected'}
        </span>
      </p>
      {prices.error && (
        <p className="message error" role="alert">
          {prices.error.message}
        </p>
      )}
      <ul className="cards prices" aria-label="Latest prices">
        {prices.data?.map((row) => {
          const live = latest[row.symbol];
          const newer = live && (!row.exchange_time || live.exchange_time >= row.exchange_time);
          const price = newer ? live.price : row.price;
          const time = newer ? live.exchange_time : row.exchange_time;
          // The service's flag holds unless the stream brought something newer than it judged.
          const fresher = live !== undefined && live.exchange_time > (row.exchange_time ?? '');
          const stale = !connected || price === null || (row.stale && !fresher);
          return (
            <li key={row.symbol} className="card" data-symbol={row.symbol}>
              <div className="row">
                <p className="title">{row.symbol}</p>
                <span className={`badge ${stale ? 'warn' : 'ok'}`}>{stale ? 'Stale' : 'Fresh'}</span>
              </div>
              <p className="price" aria-label={`${row.symbol} price`}>
                {price === null ? 'No price yet' : formatPrice(price)}
              </p>
              <p className="muted">
                24 h: {live?.change_24h_percent ? formatPercent(live.change_24h_percent) : '—'} ·{' '}
                {formatTime(time)}
              </p>
              <button
                type="button"
                className="small"
                aria-pressed={symbol === row.symbol}
                onClick={() => setSelected(row.symbol)}
              >
                Chart {row.symbol}
              </button>
            </li>
          );
        })}
      </ul>
      {symbol && <PriceChart symbol={symbol} points={recent.data?.points ?? []} />}
    </main>
  );
}
