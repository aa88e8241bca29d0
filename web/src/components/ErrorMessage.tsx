// Server errors as sentences next to the form that caused them, announced to screen readers.
import { TRPCClientError } from '@trpc/client';

function describeError(error: unknown): string {
  if (!(error instanceof TRPCClientError)) return 'Something went wrong. Check your connection and try again.';
  const data = error.data as { zodError?: { fieldErrors: Record<string, string[] | undefined> } | null } | undefined;
  const fieldErrors = Object.values(data?.zodError?.fieldErrors ?? {}).flat();
  return fieldErrors.length > 0 ? fieldErrors.join('. ') : error.message;
}

export function ErrorMessage({ error }: { error: unknown }) {
  return (
    <p className="error" role="alert">
      {error ? describeError(error) : null}
    </p>
  );
}
