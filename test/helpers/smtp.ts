import type { AddressInfo } from 'node:net';

import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  text: string;
  receivedAt: number;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that keeps every message it accepts. `stop()`
 * takes it down (connections are refused); `start()` brings it back on the same port.
 * STARTTLS is off (plain SMTP on loopback) and authentication optional.
 */
export class TestSmtpServer {
  readonly messages: ReceivedEmail[] = [];
  private server: SMTPServer | undefined;

  private constructor(public port: number) {}

  static async start(port = 0): Promise<TestSmtpServer> {
    const smtp = new TestSmtpServer(port);
    await smtp.start();
    return smtp;
  }

  get up(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          this.messages.push(parse(Buffer.concat(chunks).toString('utf8'), session));
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    this.port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages sent to one address. */
  to(address: string): ReceivedEmail[] {
    return this.messages.filter((m) => m.to.includes(address.toLowerCase()));
  }
}

function parse(
  raw: string,
  session: { envelope: { mailFrom: false | { address: string }; rcptTo: Array<{ address: string }> } },
): ReceivedEmail {
  const split = raw.indexOf('\r\n\r\n');
  const headerText = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  let body = raw.slice(split + 4);
  const header = (name: string) =>
    headerText
      .split('\r\n')
      .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
      ?.slice(name.length + 1)
      .trim() ?? '';
  if (/quoted-printable/i.test(header('Content-Transfer-Encoding'))) {
    body = body
      .replace(/=\r\n/g, '')
      .replace(/(=[0-9A-F]{2})+/g, (m) => Buffer.from(m.replace(/=/g, ''), 'hex').toString('utf8'));
  }
  return {
    from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
    to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
    subject: header('Subject'),
    messageId: header('Message-ID'),
    text: body,
    receivedAt: Date.now(),
  };
}
