/**
 * Secrets never reach a log line. Three nets, applied to every message and logged value
 * (LoggingModule's logMethod hook):
 * 1. configured secrets (JWT_SECRET, SMTP credentials, ALCHEMY_API_KEY, METRICS_TOKEN, ...) are
 *    replaced wherever they appear;
 * 2. URLs lose their userinfo, their query values and key-like path segments (Alchemy's
 *    `/v2/<key>`, Infura's `/v3/<id>`, QuickNode's `/<token>/`); `0x` hex (addresses, hashes) stays;
 * 3. `Bearer <token>`, `token=…`-style pairs, and object fields named like a secret.
 */

export const REDACTED = '[redacted]';

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()[\]{}]+/gi;
const KEY_LIKE_SEGMENT = /^[A-Za-z0-9_-]{16,}$/;
const HEX = /^0x[0-9a-fA-F]*$/;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const SECRET_PAIR =
  /\b((?:access_|refresh_|auth_)?token|api_?key|apikey|secret|password|passwd)(=|"\s*:\s*")([^\s"'&,;]+)/gi;
export const SECRET_FIELD = /pass(word|wd)?|secret|token|authorization|cookie|api[-_]?key|credential/i;

/** A URL without its credentials: userinfo, query values and key-like path segments. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (!url.host) return text;
  const userinfo = url.username !== '' || url.password !== '' ? `${REDACTED}@` : '';
  const path = url.pathname
    .split('/')
    .map((segment) => (KEY_LIKE_SEGMENT.test(segment) && !HEX.test(segment) ? REDACTED : segment))
    .join('/');
  const query = [...url.searchParams.keys()].map((key) => `${key}=${REDACTED}`).join('&');
  return `${url.protocol}//${userinfo}${url.host}${path}${query ? `?${query}` : ''}`;
}

/** Duck-typed: an Error from another realm (a vm context, a worker) is not `instanceof Error`. */
const isError = (value: object): value is Error =>
  value instanceof Error ||
  (typeof (value as Error).message === 'string' && typeof (value as Error).stack === 'string');

export class Redactor {
  private readonly secrets: string[];

  /** `secrets`: values to hide wherever they appear (short ones are ignored: they would mangle text). */
  constructor(secrets: ReadonlyArray<string | undefined>) {
    this.secrets = [...new Set(secrets.filter((s): s is string => s !== undefined && s.length >= 6))].sort(
      (a, b) => b.length - a.length,
    );
  }

  text(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join(REDACTED);
    return out
      .replace(URL_PATTERN, (url) => redactUrl(url))
      .replace(BEARER, (_, scheme: string) => `${scheme} ${REDACTED}`)
      .replace(SECRET_PAIR, (_, name: string, sep: string) => `${name}${sep}${REDACTED}`);
  }

  /** A copy of `value` with every string redacted and secret-named fields replaced (depth-bounded). */
  value(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object' || depth > 5) return value;
    if (isError(value)) {
      return {
        type: value.name,
        message: this.text(value.message),
        ...(value.stack === undefined ? {} : { stack: this.text(value.stack) }),
      };
    }
    if (Array.isArray(value)) return value.map((item) => this.value(item, depth + 1));
    if (Object.getPrototypeOf(value) !== Object.prototype) return value; // req/res and the like: serializers handle them
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] =
        SECRET_FIELD.test(key) && item !== undefined && item !== null
          ? REDACTED
          : this.value(item, depth + 1);
    }
    return out;
  }

  /** A request path (no host) with its secret-named query values hidden, e.g. /ws/?token=… */
  requestUrl(url: string): string {
    const at = url.indexOf('?');
    if (at < 0) return url;
    const query = url
      .slice(at + 1)
      .split('&')
      .map((pair) => {
        const [key] = pair.split('=', 1);
        return SECRET_FIELD.test(key) || /^(key|sig|signature)$/i.test(key) ? `${key}=${REDACTED}` : pair;
      })
      .join('&');
    return `${url.slice(0, at)}?${query}`;
  }
}
