import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

import { checkUrlShape, resolveSafe, UnsafeUrlError, type UrlPolicy } from './address-policy.js';

/** Response bodies are read up to this many bytes (kept for the delivery log's error text). */
export const MAX_RESPONSE_BYTES = 4096;

export interface SendResult {
  /** HTTP status, or undefined when no response came (refused, reset, timed out, unsafe). */
  statusCode: number | undefined;
  latencyMs: number;
  /** Why it is not a success, or undefined for a 2xx. */
  error: string | undefined;
}

export interface SendOptions extends UrlPolicy {
  timeoutMs: number;
}

const agentOptions = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64 };
const httpAgent = new http.Agent(agentOptions);
const httpsAgent = new https.Agent(agentOptions);

/**
 * One POST of a webhook message. Success is any 2xx; a redirect is not followed (it is a failure
 * naming the Location). The host is resolved and checked here, at every send, and the connection
 * goes to exactly the checked address (the lookup is pinned), so DNS rebinding cannot slip a
 * private address in between the check and the connect. The whole attempt (connect, send, response
 * head and body) is bounded by `timeoutMs`, and the body is read up to MAX_RESPONSE_BYTES.
 */
export async function sendWebhook(
  urlText: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let pinned: { address: string; family: 4 | 6 };
  let url: URL;
  try {
    url = checkUrlShape(urlText, options);
    // The lookup counts against the attempt's timeout too: a resolver that hangs must not hold the
    // attempt (and a shutdown waiting for it) past it.
    let dnsTimer: NodeJS.Timeout | undefined;
    const dnsLate = new Promise<never>((_, reject) => {
      dnsTimer = setTimeout(
        () => reject(new Error(`no answer within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
    });
    try {
      pinned = await Promise.race([resolveSafe(url.hostname, options.allowPrivate), dnsLate]);
    } finally {
      clearTimeout(dnsTimer);
    }
  } catch (error) {
    const message = error instanceof UnsafeUrlError ? error.message : `DNS: ${(error as Error).message}`;
    return { statusCode: undefined, latencyMs: elapsed(), error: message };
  }
  const lookup: LookupFunction = (_host, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (statusCode: number | undefined, error: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ statusCode, latencyMs: elapsed(), error });
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      agent: url.protocol === 'https:' ? httpsAgent : httpAgent,
      lookup,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'crypto-deposit-monitor-webhooks/1',
        ...headers,
      },
    });
    const timer = setTimeout(
      () => {
        finish(undefined, `timed out after ${options.timeoutMs} ms`);
        request.destroy();
      },
      Math.max(1, options.timeoutMs - elapsed()),
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      finish(undefined, `${error.code ? `${error.code}: ` : ''}${error.message}`),
    );
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8').slice(0, 500);
        if (status >= 200 && status < 300) finish(status, undefined);
        else if (status >= 300 && status < 400)
          finish(status, `redirect to ${response.headers.location ?? '(no location)'} not followed`);
        else finish(status, `HTTP ${status}${text ? `: ${text}` : ''}`);
      };
      response.on('data', (chunk: Buffer) => {
        if (size >= MAX_RESPONSE_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
        size += chunk.length;
        if (size >= MAX_RESPONSE_BYTES) {
          // Enough: stop reading (the socket is not reused).
          done();
          response.destroy();
        }
      });
      response.on('end', done);
      response.on('error', (error) => finish(status, `response: ${error.message}`));
      response.on('close', () => finish(status, 'connection closed before the response ended'));
    });
    request.end(body);
  });
}
