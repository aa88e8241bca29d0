// The one TanStack Query cache of the app.
import { QueryClient } from '@tanstack/react-query';
import { TRPCClientError } from '@trpc/client';

const isClientError = (error: unknown) => {
  const status =
    error instanceof TRPCClientError ? (error.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;
  return status !== undefined && status >= 400 && status < 500;
};

export const queryClient = new QueryClient({
  defaultOptions: {
    // A 4xx will not change on a retry (401s are handled by refreshLink); network errors may.
    queries: { retry: (failures, error) => !isClientError(error) && failures < 2, staleTime: 30_000 },
  },
});
