// The typed tRPC client and TanStack Query setup. Types come from the server's
// router; no server code is bundled. Auth calls go unbatched so the refresh
// cookie's Path (/trpc/auth.refresh) matches their URL. reauthLink comes first, so
// the call it retries after the password dialog goes through refreshLink again.
import { createTRPCClient, httpBatchLink, httpLink, splitLink } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { AppRouter } from '../../server/routers/_app.ts';
import { reauthLink } from './auth/reauth-link.ts';
import { requestReauth } from './auth/reauth-prompt.ts';
import { refreshLink } from './auth/refresh-link.ts';
import { endSession, refreshSession } from './auth/session.ts';
import { queryClient } from './query-client.ts';

/** The plain client, for calls outside React Query (a passkey ceremony's two steps). */
export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    reauthLink({ confirm: requestReauth }),
    refreshLink({
      refresh: refreshSession,
      onSessionEnded: () => endSession('Your session ended, please sign in again.', { returnHere: true }),
    }),
    splitLink({
      condition: (op) => op.path.startsWith('auth.'),
      true: httpLink({ url: '/trpc' }),
      false: httpBatchLink({ url: '/trpc', maxItems: 10 }),
    }),
  ],
});

export const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
