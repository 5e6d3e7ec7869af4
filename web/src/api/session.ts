/**
 * The signed-in session: the access token (and the account's email) kept in localStorage so a
 * reload keeps the user signed in, plus the message to show on the login page after a logout that
 * the user did not ask for (an expired or rejected token).
 */
export interface Session {
  token: string;
  email: string;
  /** ms since the epoch, from the token's `expires_in`. */
  expiresAt: number;
}

const KEY = 'cdm.session';
const listeners = new Set<() => void>();
let current: Session | null = read();
let notice: string | null = null;

function read(): Session | null {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    return parsed && typeof parsed.token === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

const changed = () => listeners.forEach((listener) => listener());

export const session = {
  get: (): Session | null => current,
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  start(value: Session): void {
    current = value;
    notice = null;
    localStorage.setItem(KEY, JSON.stringify(value));
    changed();
  },
  /** Logs out; `message` is shown on the login page (why the user has to log in again). */
  end(message: string | null = null): void {
    if (current === null && message === null) return;
    current = null;
    notice = message;
    localStorage.removeItem(KEY);
    changed();
  },
  /** The message of the last forced logout, once. */
  takeNotice(): string | null {
    const value = notice;
    notice = null;
    return value;
  },
};

export const EXPIRED_MESSAGE = 'Your session has expired. Please log in again.';
