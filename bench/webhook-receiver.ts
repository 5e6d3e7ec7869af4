/**
 * The webhooks bench's receiver child: an HTTP server on 127.0.0.1 answering 204 to every POST
 * (keep-alive), in its own process so its work is not counted in the delivering process. Prints
 * its port, then on stdin "count" prints how many requests it has answered.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

let count = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    count++;
    res.writeHead(204);
    res.end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`);
});
process.stdin.on('data', () => process.stdout.write(`count ${count}\n`));
process.stdin.on('end', () => server.close(() => process.exit(0)));
