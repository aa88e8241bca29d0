// A real SMTP server for the browser tests (playwright.config.ts starts it next to the app):
// it accepts every message, parses it, and appends it as one JSON line to
// $E2E_DATA_DIR/mail.jsonl, which test/e2e/fixtures.ts reads to follow the links in it.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One received mail, as fixtures.ts reads it back. */
export interface SinkMail {
  to: string[];
  subject: string;
  text: string;
  receivedAt: string;
}

const file = join(process.env.E2E_DATA_DIR!, 'mail.jsonl');

const server = new SMTPServer({
  // Plain SMTP on loopback, like a local relay: no login, no TLS upgrade.
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData(stream, session, callback) {
    simpleParser(stream).then((parsed) => {
      const mail: SinkMail = {
        to: session.envelope.rcptTo.map((recipient) => recipient.address.toLowerCase()),
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
        receivedAt: new Date().toISOString(),
      };
      appendFileSync(file, `${JSON.stringify(mail)}\n`);
      callback();
    }, callback);
  },
});
server.on('error', (error) => console.error('smtp-sink:', error));
server.listen(Number(process.env.SMTP_SINK_PORT), '127.0.0.1');
