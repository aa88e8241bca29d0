// Reading the mail a test server sent: run its outbox worker once, take the newest mail to
// an address from the memory transport (NODE_ENV=test without SMTP_URL), and pull the token
// out of its link; or receive it for real with an SMTP server. Edit it when links change shape.
import type { AddressInfo } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Mailer } from '../../server/mail/mailer.ts';
import type { MemoryTransport, OutgoingMail } from '../../server/mail/transports.ts';

export interface ReceivedMail extends OutgoingMail {
  from: string;
  /** The first link in the text part, or null when the mail has none. */
  link: string | null;
}

function requireMemoryTransport(transport: Mailer['transport']): MemoryTransport {
  if (!('sent' in transport)) throw new Error('Tests read mail from the memory transport (NODE_ENV=test, no SMTP_URL)');
  return transport as MemoryTransport;
}

/** Every mail the server sent so far (after running its worker once), oldest first. */
export async function mailsTo(server: { services: { mail: Pick<Mailer, 'worker' | 'transport'> } }, address: string) {
  await server.services.mail.worker.runOnce();
  return requireMemoryTransport(server.services.mail.transport)
    .sent.filter((mail) => mail.to === address)
    .map((mail): ReceivedMail => ({ ...mail, link: /https?:\/\/\S+/.exec(mail.text)?.[0] ?? null }));
}

/**
 * Runs the server's outbox worker once and returns the newest mail to `address`; throws when
 * there is none.
 *
 * @example
 * const mail = await nextMailTo(server, email)
 * await client.mutate('auth.resetPassword', { token: tokenFromLink(mail.link), newPassword })
 */
export async function nextMailTo(
  server: { services: { mail: Pick<Mailer, 'worker' | 'transport'> } },
  address: string,
): Promise<ReceivedMail> {
  const mail = (await mailsTo(server, address)).at(-1);
  if (!mail) throw new Error(`No mail was sent to ${address}`);
  return mail;
}

/**
 * The token in a link's fragment (`…/reset-password#token=…`): it travels after the `#` so
 * it never reaches a server's access log.
 *
 * @example
 * tokenFromLink('http://localhost:5173/complete-sign-up#token=abc') // => 'abc'
 */
export function tokenFromLink(link: string | null): string {
  const token = link ? new URLSearchParams(new URL(link).hash.slice(1)).get('token') : null;
  if (!token) throw new Error(`No token in link ${link}`);
  return token;
}

/**
 * A real SMTP server on 127.0.0.1 (`port` 0: any free one) that keeps what it receives, parsed.
 *
 * @example
 * const smtp = await startSmtpServer()
 * // SMTP_URL=smtp.url …
 * await vi.waitFor(() => expect(smtp.received).toHaveLength(1))
 * await smtp.close()
 */
export async function startSmtpServer(port = 0) {
  const received: (ParsedMail & { envelope: { from: string; to: string[] } })[] = [];
  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP on the loopback: offered STARTTLS, nodemailer would upgrade and then refuse
    // smtp-server's built-in test certificate.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        const { mailFrom, rcptTo } = session.envelope;
        received.push({
          ...mail,
          envelope: { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((r) => r.address) },
        });
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = (server.server.address() as AddressInfo).port;
  return {
    port: actualPort,
    url: `smtp://127.0.0.1:${actualPort}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(resolve)),
  };
}
