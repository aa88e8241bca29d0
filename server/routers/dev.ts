// Development-only procedures: the dev mailbox (what the development mail transport "sent").
// Outside NODE_ENV=development they answer exactly like a procedure that does not exist.
// Delete this file and its line in _app.ts if you have no use for it.
import { TRPCError } from '@trpc/server';
import { desc } from 'drizzle-orm';
import { publicProcedure, router } from '../trpc.ts';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

/** Answers like an unknown path (tRPC's own message), so production does not even reveal it exists. */
const developmentOnly = publicProcedure.use(({ ctx, path, next }) => {
  // Also refused when the mail goes out by SMTP, or when the server listens beyond this
  // machine: a deployment that forgot NODE_ENV (development by default) must not publish
  // live links here.
  const isLocalOnly = LOOPBACK_HOSTS.has(ctx.config.host);
  if (ctx.config.nodeEnv !== 'development' || ctx.config.mail.transport !== 'dev-mailbox' || !isLocalOnly) {
    throw new TRPCError({ code: 'NOT_FOUND', message: `No procedure found on path "${path}"` });
  }
  return next();
});

export const devRouter = router({
  /** The 50 newest mails, newest first. They hold live links: development only. */
  mailbox: developmentOnly.query(async ({ ctx }) => {
    const { devMailbox } = ctx.db.tables;
    return await ctx.db
      .select({
        id: devMailbox.id,
        to: devMailbox.to,
        subject: devMailbox.subject,
        text: devMailbox.text,
        html: devMailbox.html,
        sentAt: devMailbox.sentAt,
      })
      .from(devMailbox)
      .orderBy(desc(devMailbox.id))
      .limit(50);
  }),
});
