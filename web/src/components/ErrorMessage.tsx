// Errors as sentences next to the field or form that caused them, announced to screen
// readers. Give it an `id` and point the field's aria-describedby at it.
import { TRPCClientError } from '@trpc/client';

function describeError(error: unknown): string {
  // A message of our own, such as a check made before calling the server.
  if (typeof error === 'string') return error;
  if (!(error instanceof TRPCClientError)) return 'Something went wrong. Check your connection and try again.';
  // No tRPC error in the answer: the request never reached the API (offline, the server down,
  // a proxy's own error page), so its message is the browser's or the JSON parser's.
  if (!error.data) return 'Cannot reach the server right now. Check your connection, then try again.';
  const data = error.data as { zodError?: { fieldErrors: Record<string, string[] | undefined> } | null } | undefined;
  const fieldErrors = Object.values(data?.zodError?.fieldErrors ?? {}).flat();
  return fieldErrors.length > 0 ? fieldErrors.join('. ') : error.message;
}

export function ErrorMessage({ error, id }: { error: unknown; id?: string }) {
  return (
    <p className="error" role="alert" id={id}>
      {error ? describeError(error) : null}
    </p>
  );
}
