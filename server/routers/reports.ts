// An example of a procedure backed by another service (examples/reports-service): the
// API calls it with a token only that service accepts. Delete this file, its line in
// _app.ts and examples/reports-service/ when you have no such service.
import { z } from 'zod';
import { callService } from '../http/call-service.ts';
import { protectedProcedure, router } from '../trpc.ts';

const summarySchema = z.object({
  userId: z.string(),
  reports: z.array(z.object({ id: z.string(), title: z.string(), rows: z.number().int() })),
});

export const reportsRouter = router({
  /** The signed-in user's reports, from the reports service (JWT_SERVICES=reports=<its URL>). */
  summary: protectedProcedure.query(async ({ ctx }) => callService(ctx, 'reports', '/summary', summarySchema)),
});
