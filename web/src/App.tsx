import { lazy, Suspense, useSyncExternalStore } from 'react';
import { Link, Redirect, Route, Switch, useLocation } from 'wouter';

import { session } from './api/session';
import { LiveProvider, useLive, useMe } from './live';
import { AlertsPage } from './pages/AlertsPage';
import { AuthPage } from './pages/AuthPage';
import { DepositsPage } from './pages/DepositsPage';
import { NetworksPage } from './pages/NetworksPage';
import { WalletsPage } from './pages/WalletsPage';
import { WebhooksPage } from './pages/WebhooksPage';

// The chart library is loaded with the Prices page only, not by every visit.
const PricesPage = lazy(() => import('./pages/PricesPage').then((m) => ({ default: m.PricesPage })));

/** The app's routes all live under /app (the API owns every other path); / redirects here. */
export const ROUTES = {
  login: '/app/login',
  signup: '/app/signup',
  deposits: '/app/deposits',
  wallets: '/app/wallets',
  prices: '/app/prices',
  alerts: '/app/alerts',
  webhooks: '/app/webhooks',
  networks: '/app/networks',
} as const;

export function App() {
  const current = useSyncExternalStore(session.subscribe, session.get);
  if (!current) {
    return (
      <Switch>
        <Route path={ROUTES.signup}>
          <AuthPage mode="signup" />
        </Route>
        <Route path={ROUTES.login}>
          <AuthPage mode="login" />
        </Route>
        <Route path="/app/networks">
          <Shell signedIn={false}>
            <NetworksPage />
          </Shell>
        </Route>
        <Route>
          <Redirect to={ROUTES.login} replace />
        </Route>
      </Switch>
    );
  }
  return (
    <LiveProvider session={current}>
      <Shell signedIn>
        <Switch>
          <Route path="/">
            <Redirect to={ROUTES.deposits} replace />
          </Route>
          <Route path={ROUTES.login}>
            <Redirect to={ROUTES.deposits} replace />
          </Route>
          <Route path={ROUTES.signup}>
            <Redirect to={ROUTES.deposits} replace />
          </Route>
          <Route path={ROUTES.deposits}>
            <DepositsPage />
          </Route>
          <Route path="/app/wallets/:id/deposits">{(params) => <DepositsPage walletId={params.id} />}</Route>
          <Route path={ROUTES.wallets}>
            <WalletsPage />
          </Route>
          <Route path={ROUTES.prices}>
            <Suspense fallback={<p className="page">Loading…</p>}>
              <PricesPage />
            </Suspense>
          </Route>
          <Route path={ROUTES.alerts}>
            <AlertsPage />
          </Route>
          <Route path={ROUTES.webhooks}>
            <WebhooksPage />
          </Route>
          <Route path={ROUTES.networks}>
            <NetworksPage />
          </Route>
          <Route>
            <main className="page">
              <h1>Page not found</h1>
              <p>
                <Link href={ROUTES.deposits}>Go to your deposits</Link>
              </p>
            </main>
          </Route>
        </Switch>
      </Shell>
    </LiveProvider>
  );
}

const NAV: Array<[string, string]> = [
  [ROUTES.deposits, 'Deposits'],
  [ROUTES.wallets, 'Wallets'],
  [ROUTES.prices, 'Prices'],
  [ROUTES.alerts, 'Alerts'],
  [ROUTES.webhooks, 'Webhooks'],
  [ROUTES.networks, 'Networks'],
];

function Shell({ signedIn, children }: { signedIn: boolean; children: React.ReactNode }) {
  const [location] = useLocation();
  return (
    <>
      <header className="topbar">
        <span className="brand">Deposit Monitor</span>
        <nav aria-label="Main">
          {(signedIn ? NAV : NAV.slice(-1)).map(([href, label]) => (
            <Link key={href} href={href} aria-current={location.startsWith(href) ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        {signedIn ? <Account /> : <Link href={ROUTES.login}>Log in</Link>}
      </header>
      {signedIn && <Notifications />}
      {children}
    </>
  );
}

function Account() {
  const me = useMe();
  const { connected } = useLive();
  return (
    <div className="account">
      <span className={`badge ${connected ? 'ok' : 'warn'}`}>{connected ? 'Live' : 'Offline'}</span>
      <span className="email">{me.data?.email ?? session.get()?.email}</span>
      <button type="button" onClick={() => session.end()}>
        Log out
      </button>
    </div>
  );
}

function Notifications() {
  const { notifications, dismiss } = useLive();
  return (
    <section className="notifications" aria-live="polite" aria-label="Notifications">
      {notifications.map((n) => (
        <div key={n.id} className="notification" role="status">
          <span>
            <strong>Price alert:</strong> {n.text}
          </span>
          <button type="button" onClick={() => dismiss(n.id)} aria-label={`Dismiss: ${n.text}`}>
            Dismiss
          </button>
        </div>
      ))}
    </section>
  );
}
