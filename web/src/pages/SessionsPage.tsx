// The user's devices: each live session, with a way to end it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endSession } from '../auth/session.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

const when = (date: string | Date) => new Date(date).toLocaleString();

/** "Firefox on Windows" from a User-Agent string; good enough to tell devices apart. */
function describeDevice(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const browser = /(Edg|Firefox|HeadlessChrome|Chrome|Safari)\//.exec(userAgent)?.[1]?.replace('Edg', 'Edge');
  const os = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(userAgent)?.[1]?.replace('Mac OS X', 'macOS');
  return browser ? `${browser}${os ? ` on ${os}` : ''}` : userAgent.slice(0, 60);
}

export function SessionsPage() {
  usePageTitle('Sessions');
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.session.list.queryOptions());
  const refetch = () => queryClient.invalidateQueries({ queryKey: trpc.session.list.queryKey() });
  const revoke = useMutation(
    trpc.session.revoke.mutationOptions({
      onSuccess: (_, { id }) => {
        if (sessions.data?.find((s) => s.id === id)?.current) endSession('You signed out.');
        else void refetch();
      },
    }),
  );
  const revokeOthers = useMutation(trpc.session.revokeOthers.mutationOptions({ onSuccess: refetch }));

  return (
    <>
      <h1>Sessions</h1>
      <p>Every browser or device signed in to your account.</p>
      <ErrorMessage error={sessions.error ?? revoke.error ?? revokeOthers.error} />
      {sessions.data && (
        <ul className="sessions">
          {sessions.data.map((session) => (
            <li key={session.id} data-current={session.current}>
              <div>
                <strong title={session.userAgent ?? undefined}>{describeDevice(session.userAgent)}</strong>
                {session.current && <span className="badge">This device</span>}
                <br />
                <small>
                  Signed in {when(session.createdAt)} · last active {when(session.lastUsedAt)}
                </small>
              </div>
              <button type="button" onClick={() => revoke.mutate({ id: session.id })} disabled={revoke.isPending}>
                Sign out
              </button>
            </li>
          ))}
        </ul>
      )}
      <button type="button" onClick={() => revokeOthers.mutate()} disabled={revokeOthers.isPending}>
        Sign out of all other sessions
      </button>
      {revokeOthers.isSuccess && (
        <p role="status">
          Signed out of {revokeOthers.data.endedSessions} other session
          {revokeOthers.data.endedSessions === 1 ? '' : 's'}.
        </p>
      )}
    </>
  );
}
