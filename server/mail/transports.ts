// Where mail goes, chosen by configuration (config.mail.transport): SMTP through nodemailer
// in production, the development mailbox (console + dev_mailbox table) in development, and
// memory in tests. Edit it to add a transport (an HTTP mail API, say): implement `send`.
import { createTransport } from 'nodemailer';
import type { Db } from '../../db/client.ts';
import type { Config } from '../env.ts';
import type { Logger } from '../logger.ts';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface MailTransport {
  /** Resolves once the mail is accepted; rejects (never crashes) when it is not. */
  send(mail: OutgoingMail, options?: { signal?: AbortSignal }): Promise<void>;
  /** Releases connections; call it once, at shutdown. */
  close(): void;
}

export interface MemoryTransport extends MailTransport {
  /** Every mail "sent", oldest first, with the sender it would have had. */
  sent: (OutgoingMail & { from: string })[];
}

/** Milliseconds to connect, to get the greeting, and of silence mid-conversation: a hanging server cannot hold the worker. */
const SMTP_TIMEOUT_MS = 10_000;

/**
 * SMTP through nodemailer: one connection per mail (the outbox sends a few at a time).
 * Options in the URL's query win over the defaults here, e.g. `?connectionTimeout=30000`.
 *
 * @example
 * await createSmtpTransport('smtps://user:pass@smtp.example.com:465', 'App <no-reply@example.com>').send(mail)
 */
export function createSmtpTransport(smtpUrl: string, from: string, logger?: Logger): MailTransport {
  const transporter = createTransport(
    {
      url: smtpUrl,
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
      // Our mails are strings; nothing in them may make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    },
    { from },
  );
  // An 'error' event nobody listens to would end the process; sends report theirs anyway.
  transporter.on('error', (error) => logger?.warn('SMTP transport error', { code: errorCode(error) }));
  return {
    async send({ to, subject, text, html }, { signal } = {}) {
      await transporter.sendMail({ to, subject, text, html, signal });
    },
    close: () => transporter.close(),
  };
}

/**
 * Keeps mail in an array: what tests read (test/helpers/mail.ts).
 *
 * @example
 * const transport = createMemoryTransport(); …; transport.sent.at(-1)?.subject
 */
export function createMemoryTransport(from = 'test <no-reply@localhost>'): MemoryTransport {
  const sent: MemoryTransport['sent'] = [];
  return {
    sent,
    send: async (mail) => {
      sent.push({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html });
    },
    close: () => {},
  };
}

/**
 * Development: keeps each mail in `dev_mailbox` (the SPA's dev mailbox page reads it) and
 * logs one line with the recipient, the subject and its links, to click from the console.
 *
 * @example
 * createDevMailboxTransport(db, logger).send(mail) // logs "Dev mailbox: to a@example.com …"
 */
export function createDevMailboxTransport(db: Db, logger: Logger, now = () => new Date()): MailTransport {
  return {
    async send(mail) {
      await db
        .insert(db.tables.devMailbox)
        .values({ to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, sentAt: now() });
      const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
      logger.info(`Dev mailbox: to ${mail.to} "${mail.subject}" ${links.join(' ')}`.trimEnd());
    },
    close: () => {},
  };
}

/**
 * The transport configuration asks for.
 *
 * @example
 * const transport = createMailTransport(config.mail, { db, logger })
 */
export function createMailTransport(
  mail: Config['mail'],
  { db, logger, now }: { db: Db; logger: Logger; now?: () => Date },
): MailTransport {
  switch (mail.transport) {
    case 'smtp':
      if (!mail.smtpUrl) throw new Error('config.mail.transport is smtp but smtpUrl is missing');
      return createSmtpTransport(mail.smtpUrl, mail.from, logger);
    case 'memory':
      return createMemoryTransport(mail.from);
    case 'dev-mailbox':
      return createDevMailboxTransport(db, logger, now);
  }
}

/**
 * A short, body-free description of a send failure: nodemailer's code (ECONNECTION,
 * ETIMEDOUT, EENVELOPE…) and the SMTP reply code, never the server's text or the mail.
 *
 * @example
 * errorCode(Object.assign(new Error('…'), { code: 'EENVELOPE', responseCode: 550 })) // => 'EENVELOPE 550'
 */
export function errorCode(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const { code, responseCode } = error as Error & { code?: unknown; responseCode?: unknown };
  const parts = [typeof code === 'string' ? code : error.name, typeof responseCode === 'number' ? responseCode : ''];
  return parts.join(' ').trim().slice(0, 64);
}
