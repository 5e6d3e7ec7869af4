import nodemailer, { type Transporter } from 'nodemailer';

import type { AppConfig } from '../config/config.js';

export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  /** A stable Message-ID per delivery, so a resend after a crash can be recognised as the same message. */
  messageId: string;
}

/** A failure that retrying will not cure (no SMTP configured, a 5xx answer). */
export class PermanentEmailError extends Error {
  override name = 'PermanentEmailError';
}

/** Sends email (the DI token; SMTP via nodemailer is the adapter). */
export abstract class Mailer {
  /** Resolves only once the server accepted the message for every recipient; rejects otherwise. */
  abstract send(message: EmailMessage): Promise<void>;
  abstract close(): void;
}

export const SMTP_NOT_CONFIGURED =
  'SMTP is not configured: set SMTP_HOST (and SMTP_PORT, SMTP_USER, SMTP_PASSWORD) to send email';

export class SmtpMailer extends Mailer {
  private readonly transport: Transporter | undefined;

  constructor(private readonly smtp: AppConfig['smtp']) {
    super();
    this.transport =
      smtp.host === undefined
        ? undefined
        : nodemailer.createTransport({
            host: smtp.host,
            port: smtp.port,
            secure: smtp.secure,
            auth: smtp.user !== undefined ? { user: smtp.user, pass: smtp.password } : undefined,
            // No pool: with `pool: true` the e2e "SMTP down then up" test saw the mail go out ~30 s
            // after the server was back (cause not traced); our worker owns retries and backoff.
            // Fail fast: a hung server must not hold a delivery's lease.
            connectionTimeout: 10_000,
            greetingTimeout: 10_000,
            socketTimeout: 30_000,
          });
  }

  async send(message: EmailMessage): Promise<void> {
    if (!this.transport) throw new PermanentEmailError(SMTP_NOT_CONFIGURED);
    let info: { rejected?: unknown[]; accepted?: unknown[] };
    try {
      info = await this.transport.sendMail({ from: this.smtp.from, ...message });
    } catch (error) {
      const code = (error as { responseCode?: number }).responseCode;
      if (code !== undefined && code >= 500 && code < 600)
        throw new PermanentEmailError((error as Error).message);
      throw error;
    }
    if ((info.rejected?.length ?? 0) > 0 || (info.accepted?.length ?? 0) === 0) {
      throw new PermanentEmailError(`the server rejected the recipient ${message.to}`);
    }
  }

  close(): void {
    this.transport?.close();
  }
}
