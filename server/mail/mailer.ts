// Mail as one service: the transport configuration asks for, the outbox worker that feeds
// it, and `enqueue` for procedures. createServices builds it once; main.ts starts and stops
// it. Edit it only to change how the pieces are put together.
import type { Db } from '../../db/client.ts';
import type { AuditLog } from '../auth/audit-log.ts';
import type { Config } from '../env.ts';
import type { Logger } from '../logger.ts';
import { type MailRequest, enqueueMail } from './outbox.ts';
import type { MailKind } from './templates.ts';
import { createMailTransport } from './transports.ts';
import { createMailWorker } from './worker.ts';

/**
 * @example
 * const mail = createMailer({ db, config, logger, auditLog, now })
 * await db.transaction(async () => { …insert the token…; mail.enqueue({ kind: 'sign_up', data: { link }, to }, { now, expiresAt }) })
 * mail.start() // once the server listens; `await mail.stop()` at shutdown
 */
export function createMailer(deps: {
  db: Db;
  config: Pick<Config, 'mail'>;
  logger: Logger;
  auditLog: Pick<AuditLog, 'record'>;
  now: () => Date;
}) {
  const transport = createMailTransport(deps.config.mail, deps);
  const worker = createMailWorker({ ...deps, transport });
  return {
    transport,
    worker,
    /**
     * Queues a mail, in the caller's transaction if there is one (see enqueueMail): call
     * `wake()` after it commits, since the worker cannot see the row before.
     */
    enqueue<K extends MailKind>(mail: MailRequest<K>, times: Parameters<typeof enqueueMail>[2]): Promise<string> {
      return enqueueMail(deps.db, mail, times);
    },
    wake: worker.wake,
    start: worker.start,
    /** Waits for a send in flight, then closes the transport's connections. */
    async stop() {
      await worker.stop();
      transport.close();
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
