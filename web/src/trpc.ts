// The typed tRPC client. Types come from the server's router; no code does.
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from '../../server/routers/_app.ts';

export const trpc = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: '/trpc', maxItems: 10 })],
});
