/**
 * An HTTP JSON-RPC proxy on 127.0.0.1 in front of a node that records every call (method and
 * params) it forwards, single or batched — to count what a client asks the node for. `rewrite`
 * may change a call before it is forwarded (e.g. to answer as a node that lags would).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcCall {
  method: string;
  params: unknown[];
}

export interface RpcRecorder {
  readonly httpUrl: string;
  readonly calls: RpcCall[];
  /** Applied to every call from now on (recorded as the client sent it); undefined: none. */
  rewrite: ((call: RpcCall) => RpcCall) | undefined;
  close(): Promise<void>;
}

export async function startRpcRecorder(targetHttpUrl: string): Promise<RpcRecorder> {
  const calls: RpcCall[] = [];
  const recorder: { rewrite: RpcRecorder['rewrite'] } = { rewrite: undefined };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks).toString('utf8');
      try {
        const parsed = JSON.parse(body) as RpcCall | RpcCall[];
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
          calls.push({ method: call.method, params: call.params ?? [] });
        }
        const { rewrite } = recorder;
        if (rewrite) {
          const changed = (call: RpcCall) => ({
            ...call,
            ...rewrite({ method: call.method, params: call.params ?? [] }),
          });
          body = JSON.stringify(Array.isArray(parsed) ? parsed.map(changed) : changed(parsed));
        }
      } catch {
        // not JSON: forwarded as is, the node answers it
      }
      fetch(targetHttpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (answer) => {
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(await answer.text());
        })
        .catch((error: unknown) => {
          res.writeHead(502);
          res.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    httpUrl: `http://127.0.0.1:${port}`,
    calls,
    get rewrite() {
      return recorder.rewrite;
    },
    set rewrite(value) {
      recorder.rewrite = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
