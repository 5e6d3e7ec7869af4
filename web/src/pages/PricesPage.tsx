import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';

import { api, call, type PricePoint } from '../api/client';
import { connectPriceSocket } from '../api/realtime';
import { PriceChart } from '../components/PriceChart';
import { formatPercent, formatPrice, formatTime } from '../lib/format';
import { CHART_POINTS, mergeRecent } from '../lib/recent-prices';

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
  // Every point the stream brought, per symbol: a point that arrives while the chart's history is
  // still being fetched (and the fetch answered before it) is merged into that history, not lost.
  const live = useRef(new Map<string, PricePoint[]>());

  useEffect(() => {
    const socket = connectPriceSocket();
    let wasConnected = false;
    socket.on('connect', () => {
      setConnected(true);
      // Back after a cut: what the stream sent meanwhile is in the service's history, not here.
      if (wasConnected) void queryClient.invalidateQueries({ queryKey: ['prices'] });
      wasConnected = true;
    });
    socket.on('disconnect', () => setConnected(false));
    socket.on('connect_error', () => setConnected(false));
    socket.on('price', (point: PricePoint) => {
      setLatest((all) => ({ ...all, [point.symbol]: point }));
      const seen = live.current.get(point.symbol) ?? [];
      live.current.set(point.symbol, [...seen, point].slice(-CHART_POINTS));
      queryClient.setQueryData(
        recentKey(point.symbol),
        (data: { points: PricePoint[] } | undefined) =>
          data && { ...data, points: mergeRecent(data.points, [point]) },
      );
    });
    return () => {
      socket.close();
    };
  }, [queryClient]);

  const recent = useQuery({
    queryKey: recentKey(symbol ?? ''),
    enabled: symbol !== undefined,
    queryFn: async () => {
      const data = await call(api.GET('/prices/{symbol}/recent', { params: { path: { symbol: symbol! } } }));
      return { ...data, points: mergeRecent(data.points, live.current.get(data.symbol) ?? []) };
    },
    // Kept up to date by the stream while the page is open; read again when it opens again (the
    // stream was closed meanwhile) or after a reconnect. The fetch merges what the stream sent.
    staleTime: Infinity,
    refetchOnMount: 'always',
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
          const change = newer ? live.change_24h_percent : row.change_24h_percent;
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
                24 h: {change ? formatPercent(change) : '—'} · {formatTime(time)}
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
