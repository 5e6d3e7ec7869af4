import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link } from 'wouter';

import { api, call } from '../api/client';
import { session } from '../api/session';

/** Sign up (creates the account, then logs in) or log in; the token is kept for reloads. */
export function AuthPage({ mode }: { mode: 'login' | 'signup' }) {
  const [notice] = useState(() => session.takeNotice());
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = useMutation({
    mutationFn: async () => {
      if (mode === 'signup') await call(api.POST('/users', { body: { email, password } }));
      const token = await call(api.POST('/auth/login', { body: { email, password } }));
      session.start({ token: token.access_token, email, expiresAt: Date.now() + token.expires_in * 1000 });
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit.mutate();
  };
  const title = mode === 'signup' ? 'Sign up' : 'Log in';
  return (
    <main className="page narrow">
      <h1>{title}</h1>
      <p>Follow deposits to your wallets and get price alerts.</p>
      {notice && (
        <p className="message warn" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={onSubmit} className="form">
        <label htmlFor="email">Email</label>
        <input
          id="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {submit.error && (
          <p className="message error" role="alert">
            {submit.error.message}
          </p>
        )}
        <button type="submit" disabled={submit.isPending}>
          {title}
        </button>
      </form>
      <p>
        {mode === 'signup' ? (
          <>
            Have an account? <Link href="/app/login">Log in</Link>
          </>
        ) : (
          <>
            New here? <Link href="/app/signup">Create an account</Link>
          </>
        )}
      </p>
    </main>
  );
}
