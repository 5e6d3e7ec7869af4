import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useRef, useState } from 'react';

import { api, call } from './api/client';
import { type AlertNotice, connectUserSocket } from './api/realtime';
import type { Session } from './api/session';
import { applyDepositEvent, emptyLive, type LiveDeposits } from './lib/deposit-events';
import { formatPrice } from './lib/format';

export interface Notification {
  id: string;
  text: string;
}

interface Live {
  deposits: LiveDeposits;
  connected: boolean;
  notifications: Notification[];
  dismiss(id: string): void;
}

const LiveContext = createContext<Live | null>(null);

export const useLive = (): Live => {
  const live = useContext(LiveContext);
  if (!live) throw new Error('useLive outside LiveProvider');
  return live;
};

export const useWallets = (userId: string | undefined) =>
  useQuery({
    queryKey: ['wallets', userId],
    enabled: userId !== undefined,
    queryFn: () => call(api.GET('/wallets/user/{user_id}', { params: { path: { user_id: userId! } } })),
  });

export const useMe = () => useQuery({ queryKey: ['me'], queryFn: () => call(api.GET('/users/me')) });

/**
 * One authenticated socket for the signed-in user: wallet rooms for every wallet (deposits, merged
 * into `deposits`), the user room for price alerts (shown as notifications, history refreshed).
 */
export function LiveProvider({ session, children }: { session: Session; children: ReactNode }) {
  const queryClient = useQueryClient();
  const [deposits, setDeposits] = useState<LiveDeposits>(emptyLive);
  const [connected, setConnected] = useState(false);
  const [notifications, setNotifications] = useState<Notification[]>([]);
  const lastEventId = useRef(0);
  const me = useMe();
  const wallets = useWallets(me.data?.id);
  const [socket, setSocket] = useState<ReturnType<typeof connectUserSocket> | null>(null);

  useEffect(() => {
    const connection = connectUserSocket(
      session.token,
      {
        onDeposit: (event) => {
          lastEventId.current = Math.max(lastEventId.current, event.event_id);
          setDeposits((state) => applyDepositEvent(state, event));
        },
        onAlert: (notice: AlertNotice) => {
          lastEventId.current = Math.max(lastEventId.current, notice.event_id);
          const added = notice.data.alerts.map((a) => ({
            id: a.firing_id,
            text: `${a.symbol} ${a.condition.replace('_', ' ')} ${a.threshold}: price ${formatPrice(a.price)}`,
          }));
          setNotifications((list) => [...added, ...list].slice(0, 5));
          void queryClient.invalidateQueries({ queryKey: ['history'] });
          void queryClient.invalidateQueries({ queryKey: ['alerts'] });
        },
        onStatus: setConnected,
        onSubscribed: () => void queryClient.invalidateQueries({ queryKey: ['deposits'] }),
      },
      () => lastEventId.current,
    );
    setSocket(connection);
    return () => connection.close();
  }, [session.token, queryClient]);

  const addresses = useMemo(() => (wallets.data ?? []).map((w) => w.address.toLowerCase()), [wallets.data]);
  useEffect(() => socket?.watch(addresses), [socket, addresses]);

  const value = useMemo<Live>(
    () => ({
      deposits,
      connected,
      notifications,
      dismiss: (id) => setNotifications((list) => list.filter((n) => n.id !== id)),
    }),
    [deposits, connected, notifications],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}
