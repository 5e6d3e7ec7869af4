import 'uplot/dist/uPlot.min.css';

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

import type { PricePoint } from '../api/client';

/**
 * A small line chart of recent prices (uPlot). Drawing is the one place a price becomes a JS
 * number: pixels need no exactness, and every price shown as text stays the exchange's string.
 */
export function PriceChart({ symbol, points }: { symbol: string; points: readonly PricePoint[] }) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = container.current!;
    const width = () => Math.max(200, element.clientWidth);
    chart.current = new uPlot(
      {
        width: width(),
        height: 180,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true } },
        axes: [{}, { size: 70 }],
        series: [{}, { label: symbol, stroke: '#1d4ed8', width: 2 }],
      },
      [[], []],
      element,
    );
    const resize = new ResizeObserver(() => chart.current?.setSize({ width: width(), height: 180 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.current?.destroy();
      chart.current = null;
    };
  }, [symbol]);

  useEffect(() => {
    chart.current?.setData([
      points.map((p) => Date.parse(p.exchange_time) / 1000),
      points.map((p) => Number(p.price)),
    ]);
  }, [points]);

  return (
    <figure className="chart">
      <div ref={container} aria-hidden="true" />
      <figcaption>
        {symbol}: {points.length} recent prices
        {points.length > 0 && `, from ${points[0].price} to ${points.at(-1)!.price}`}
      </figcaption>
    </figure>
  );
}
