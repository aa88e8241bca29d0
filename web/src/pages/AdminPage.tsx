// Admins only (the route exists for them alone, and the server checks every call again):
// the users, searchable and paged, each with its role, disabling, sessions and a password
// reset (the risky ones confirmed inline first), and the audit log, filtered by user and type.
// Lists rather than tables, so a phone never scrolls sideways.
import { keepPreviousData, useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { type FormEvent, type ReactNode, useEffect, useId, useState } from 'react';
import type { AuditEventType } from '../../../server/auth/audit-log.ts';
import { ROLES, type Role } from '../../../server/auth/roles.ts';
import type { AppRouter } from '../../../server/routers/_app.ts';
import { useMe } from '../auth/use-me.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

type AdminUser = inferRouterOutputs<AppRouter>['admin']['listUsers']['users'][number];
type AuditQuery = inferRouterInputs<AppRouter>['admin']['auditEvents'];
type Order = 'newest' | 'email';

const USERS_PAGE = 20;
const EVENTS_PAGE = 25;
const when = (date: string | Date) => new Date(date).toLocaleString();
const sessions = (n: number) => `${n} session${n === 1 ? '' : 's'}`;

/** Every event type the log records, named for people; the compiler asks for a new type's name here. */
const EVENT_TYPES: Record<AuditEventType, string> = {
  sign_up: 'Sign-up completed',
  login: 'Sign-in',
  refresh_reuse_detected: 'Refresh token reused',
  refresh_grace_used: 'Refresh grace used',
  session_revoked: 'Session ended',
  password_changed: 'Password changed',
  role_changed: 'Role changed',
  rate_limited: 'Rate limited',
  sign_up_requested: 'Sign-up requested',
  password_reset_requested: 'Password reset requested',
  password_reset: 'Password reset',
  email_change_requested: 'E-mail change requested',
  email_changed: 'E-mail changed',
  account_deleted: 'Account deleted',
  reauthenticated: 'Password confirmed',
  email_token_refused: 'Link refused',
  mail_sent: 'Mail sent',
  mail_failed: 'Mail failed',
  mail_expired: 'Mail expired',
  token_exchanged: 'Service token issued',
  user_disabled: 'User disabled',
  user_enabled: 'User enabled',
  second_factor_enabled: 'Two-step verification on',
  second_factor_disabled: 'Two-step verification off',
  second_factor_required: 'Second factor asked for',
  second_factor_used: 'Second factor used',
  recovery_codes_generated: 'Recovery codes created',
};

export function AdminPage() {
  usePageTitle('Admin');
  return (
    <>
      <h1>Admin</h1>
      <UsersSection />
      <AuditLogSection />
    </>
  );
}

/** `value`, once it has stopped changing for `ms`: one search per pause in typing, not per key. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function UsersSection() {
  const ids = { heading: useId(), search: useId(), order: useId() };
  const me = useMe();
  const [search, setSearch] = useState('');
  const [order, setOrder] = useState<Order>('newest');
  const settledSearch = useSettled(search.trim(), 250);
  const users = useInfiniteQuery(
    trpc.admin.listUsers.infiniteQueryOptions(
      { search: settledSearch || undefined, order, limit: USERS_PAGE },
      { getNextPageParam: (page) => page.nextCursor, placeholderData: keepPreviousData },
    ),
  );
  const list = users.data?.pages.flatMap((page) => page.users) ?? [];

  return (
    <section aria-labelledby={ids.heading}>
      <h2 id={ids.heading}>Users</h2>
      <form role="search" className="admin-filters" onSubmit={(event) => event.preventDefault()}>
        <div>
          <label htmlFor={ids.search}>Search by e-mail</label>
          <input
            id={ids.search}
            type="search"
            value={search}
            maxLength={254}
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => setSearch(event.target.value)}
          />
        </div>
        <div>
          <label htmlFor={ids.order}>Order</label>
          <select id={ids.order} value={order} onChange={(event) => setOrder(event.target.value as Order)}>
            <option value="newest">Newest first</option>
            <option value="email">By e-mail</option>
          </select>
        </div>
      </form>
      <ErrorMessage error={users.error} />
      {users.isSuccess && list.length === 0 && (
        <p className="hint">{settledSearch ? `No user's address contains “${settledSearch}”.` : 'No users yet.'}</p>
      )}
      <ul className="admin-list" aria-label="Users" aria-busy={users.isFetching}>
        {list.map((user) => (
          <UserRow key={user.id} user={user} isSelf={user.id === me.data?.id} />
        ))}
      </ul>
      {users.hasNextPage && (
        <button type="button" onClick={() => void users.fetchNextPage()} disabled={users.isFetchingNextPage}>
          Load more users
        </button>
      )}
    </section>
  );
}

/** What waits for a second click: a risky change is confirmed inline, next to what asked for it. */
type Pending = { kind: 'role'; role: Role } | { kind: 'disable' } | { kind: 'enable' } | { kind: 'removeSecondFactor' };

function UserRow({ user, isSelf }: { user: AdminUser; isSelf: boolean }) {
  const queryClient = useQueryClient();
  const ids = { question: useId(), error: useId() };
  const [pending, setPending] = useState<Pending | null>(null);
  const [outcome, setOutcome] = useState<{ done: string } | { error: unknown } | null>(null);
  const email = user.email;

  // Each action says how it went in this row, and refreshes the list and the audit log.
  const report = <T,>(done: (data: T) => string) => ({
    onMutate: () => setOutcome(null),
    onSuccess: (data: T) => {
      setPending(null);
      setOutcome({ done: done(data) });
    },
    onError: (error: unknown) => setOutcome({ error }),
    onSettled: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: trpc.admin.listUsers.pathKey() }),
        queryClient.invalidateQueries({ queryKey: trpc.admin.auditEvents.pathKey() }),
      ]),
  });
  const setRole = useMutation(
    trpc.admin.setRole.mutationOptions(
      report(({ user: changed }: { user: { role: Role } }) => `${email} is now ${changed.role}.`),
    ),
  );
  const setDisabled = useMutation(
    trpc.admin.setDisabled.mutationOptions(
      report(({ user: changed, endedSessions }: { user: { disabledAt: string | null }; endedSessions: number }) =>
        changed.disabledAt
          ? `${email} is disabled: ${sessions(endedSessions)} ended, and signing in is refused.`
          : `${email} is enabled again and can sign in.`,
      ),
    ),
  );
  const endSessions = useMutation(
    trpc.admin.revokeUserSessions.mutationOptions(
      report(({ endedSessions }: { endedSessions: number }) => `Ended ${sessions(endedSessions)} of ${email}.`),
    ),
  );
  const sendReset = useMutation(
    trpc.admin.sendPasswordReset.mutationOptions(report(() => `A password-reset link was sent to ${email}.`)),
  );
  const removeSecondFactor = useMutation(
    trpc.admin.removeSecondFactor.mutationOptions(
      report(({ removed }: { removed: boolean }) =>
        removed
          ? `Two-step verification is off for ${email}; they were told by mail.`
          : `${email} had no second factor.`,
      ),
    ),
  );
  const busy =
    setRole.isPending ||
    setDisabled.isPending ||
    endSessions.isPending ||
    sendReset.isPending ||
    removeSecondFactor.isPending;

  let confirmation: { question: ReactNode; label: string; danger: boolean; run: () => void } | null = null;
  if (pending?.kind === 'role') {
    const role = pending.role;
    confirmation = {
      question: (
        <>
          {/* Not "role of …": that names the select alone (getByLabel(`Role of ${email}`)). */}
          Change <strong className="address">{email}</strong> from {user.role} to {role}?
        </>
      ),
      label: 'Change role',
      danger: role !== 'admin' && user.role === 'admin',
      run: () => setRole.mutate({ userId: user.id, role }),
    };
  } else if (pending?.kind === 'removeSecondFactor') {
    confirmation = {
      question: (
        <>
          Turn off two-step verification for <strong className="address">{email}</strong>? Do it only once you know it
          is them asking (they lost their phone and their recovery codes): their password alone will sign in.
        </>
      ),
      label: 'Turn off two-step verification',
      danger: true,
      run: () => removeSecondFactor.mutate({ userId: user.id }),
    };
  } else if (pending) {
    const disable = pending.kind === 'disable';
    confirmation = {
      question: disable ? (
        <>
          Disable <strong className="address">{email}</strong>? Every session of theirs ends now, and they cannot sign
          in until the account is enabled again.
        </>
      ) : (
        <>
          Enable <strong className="address">{email}</strong> again? They can sign in with their password.
        </>
      ),
      label: disable ? 'Disable account' : 'Enable account',
      danger: disable,
      run: () => setDisabled.mutate({ userId: user.id, disabled: disable }),
    };
  }

  return (
    <li data-disabled={!!user.disabledAt}>
      <div className="admin-user">
        <strong className="address">{email}</strong>
        {isSelf && <span className="badge">You</span>}
        {user.disabledAt && <span className="badge off">Disabled</span>}
        {!user.emailVerifiedAt && <span className="badge muted">Unverified</span>}
        {user.secondFactor && <span className="badge">Two-step</span>}
        <br />
        <small>
          Joined {when(user.createdAt)}
          {user.disabledAt && ` · disabled ${when(user.disabledAt)}`}
        </small>
      </div>
      <div className="admin-actions">
        <select
          aria-label={`Role of ${email}`}
          value={pending?.kind === 'role' ? pending.role : user.role}
          disabled={busy}
          onChange={(event) => {
            const role = event.target.value as Role;
            setPending(role === user.role ? null : { kind: 'role', role });
          }}
        >
          {ROLES.map((role) => (
            <option key={role}>{role}</option>
          ))}
        </select>
        <button
          type="button"
          disabled={busy}
          onClick={() => endSessions.mutate({ userId: user.id })}
          aria-describedby={ids.error}
        >
          End all sessions<span className="visually-hidden"> of {email}</span>
        </button>
        <button
          type="button"
          disabled={busy || !!user.disabledAt}
          title={user.disabledAt ? 'Enable the account first' : undefined}
          onClick={() => sendReset.mutate({ userId: user.id })}
        >
          Send password reset<span className="visually-hidden"> to {email}</span>
        </button>
        {user.secondFactor && (
          <button type="button" disabled={busy} onClick={() => setPending({ kind: 'removeSecondFactor' })}>
            Remove two-step<span className="visually-hidden"> of {email}</span>
          </button>
        )}
        {user.disabledAt ? (
          <button type="button" disabled={busy} onClick={() => setPending({ kind: 'enable' })}>
            Enable<span className="visually-hidden"> {email}</span>
          </button>
        ) : (
          // The server refuses it too: nobody locks themselves out.
          !isSelf && (
            <button type="button" disabled={busy} onClick={() => setPending({ kind: 'disable' })}>
              Disable<span className="visually-hidden"> {email}</span>
            </button>
          )
        )}
      </div>
      {confirmation && (
        <div className="confirm" role="group" aria-labelledby={ids.question}>
          <p id={ids.question}>{confirmation.question}</p>
          <button
            type="button"
            className={confirmation.danger ? 'danger' : 'primary'}
            disabled={busy}
            onClick={confirmation.run}
          >
            {confirmation.label}
          </button>
          <button type="button" disabled={busy} onClick={() => setPending(null)}>
            Cancel
          </button>
        </div>
      )}
      <p role="status" className="done">
        {outcome && 'done' in outcome ? outcome.done : null}
      </p>
      <ErrorMessage id={ids.error} error={outcome && 'error' in outcome ? outcome.error : null} />
    </li>
  );
}

function AuditLogSection() {
  const ids = { heading: useId(), user: useId(), type: useId() };
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState<{ user: string; type: AuditEventType | '' }>({ user: '', type: '' });
  const user = filter.user.trim();
  // An address or a user id: the same field takes either.
  const query: AuditQuery = {
    limit: EVENTS_PAGE,
    ...(user.includes('@') ? { email: user } : user ? { userId: user } : {}),
    ...(filter.type ? { type: filter.type } : {}),
  };
  // admin.auditEvents pages with `before`: each page is an ordinary query, chained here.
  const events = useInfiniteQuery({
    queryKey: [...trpc.admin.auditEvents.pathKey(), 'pages', query],
    queryFn: ({ pageParam }) =>
      queryClient.fetchQuery({ ...trpc.admin.auditEvents.queryOptions({ ...query, before: pageParam }), staleTime: 0 }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const list = events.data?.pages.flatMap((page) => page.events) ?? [];

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFilter({ user: String(form.get('user')), type: String(form.get('type')) as AuditEventType | '' });
  }

  return (
    <section aria-labelledby={ids.heading}>
      <h2 id={ids.heading}>Audit log</h2>
      <form className="admin-filters" onSubmit={submit} onReset={() => setFilter({ user: '', type: '' })}>
        <div>
          <label htmlFor={ids.user}>User (e-mail or id)</label>
          <input id={ids.user} name="user" maxLength={254} autoComplete="off" spellCheck={false} />
        </div>
        <div>
          <label htmlFor={ids.type}>Event type</label>
          <select id={ids.type} name="type" defaultValue="">
            <option value="">All events</option>
            {Object.entries(EVENT_TYPES).map(([type, label]) => (
              <option key={type} value={type}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="admin-filter-buttons">
          <button type="submit" className="primary">
            Show events
          </button>
          <button type="reset">Clear</button>
        </div>
      </form>
      <ErrorMessage error={events.error} />
      {events.isSuccess && list.length === 0 && <p className="hint">No events match.</p>}
      <ol className="admin-list audit-events" aria-label="Audit events" aria-busy={events.isFetching}>
        {list.map((event) => (
          <li key={event.id}>
            <div>
              <strong>{EVENT_TYPES[event.type] ?? event.type}</strong>{' '}
              <span className={`badge ${event.outcome === 'success' ? '' : 'off'}`}>{event.outcome}</span>{' '}
              <small>
                <time dateTime={new Date(event.at).toISOString()}>{when(event.at)}</time>
              </small>
            </div>
            {event.detail && <div>{event.detail}</div>}
            <small>
              {event.userId ? (
                <span title={`User id ${event.userId}`}>{event.userEmail ?? `User ${event.userId}`}</span>
              ) : (
                'No user'
              )}
              {event.ip && ` · from ${event.ip}`}
            </small>
          </li>
        ))}
      </ol>
      {events.hasNextPage && (
        <button type="button" onClick={() => void events.fetchNextPage()} disabled={events.isFetchingNextPage}>
          Load more events
        </button>
      )}
    </section>
  );
}
