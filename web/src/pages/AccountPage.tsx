// Account settings: the address, changing it (confirmed from the new address) and deleting
// the account. Both actions need a recent password proof: when the server asks for one,
// the ReauthDialog opens and the action goes on by itself afterwards (auth/reauth-link.ts).
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { Link } from 'wouter';
import { endSession } from '../auth/session.ts';
import type { Me } from '../auth/use-me.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

const CONFIRM_WORD = 'DELETE';

export function AccountPage({ user }: { user: Me }) {
  usePageTitle('Account');
  const passwordHeading = useId();
  return (
    <>
      <h1>Account</h1>
      <dl className="facts">
        <dt>E-mail</dt>
        <dd data-testid="account-email">{user.email}</dd>
      </dl>
      <ChangeEmail currentEmail={user.email} />
      <section aria-labelledby={passwordHeading}>
        <h2 id={passwordHeading}>Password</h2>
        <p>
          <Link href="/password">Change password</Link>
        </p>
      </section>
      <DeleteAccount />
    </>
  );
}

function ChangeEmail({ currentEmail }: { currentEmail: string }) {
  const ids = { heading: useId(), input: useId(), error: useId() };
  const change = useMutation(trpc.account.changeEmail.mutationOptions());

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    change.mutate({ newEmail: String(new FormData(form).get('newEmail')) }, { onSuccess: () => form.reset() });
  }

  return (
    <section aria-labelledby={ids.heading}>
      <h2 id={ids.heading}>Change e-mail address</h2>
      <form onSubmit={submit} className="narrow">
        <label htmlFor={ids.input}>New e-mail address</label>
        <input
          id={ids.input}
          name="newEmail"
          type="email"
          autoComplete="email"
          maxLength={254}
          required
          aria-invalid={change.isError}
          aria-describedby={ids.error}
        />
        <ErrorMessage error={change.error} id={ids.error} />
        <button type="submit" disabled={change.isPending}>
          Send confirmation link
        </button>
      </form>
      {change.isSuccess && (
        <p role="status">
          We sent a link to <strong className="address">{change.variables.newEmail}</strong>. Open it to confirm the
          change; until then your address stays <span className="address">{currentEmail}</span>.
        </p>
      )}
    </section>
  );
}

function DeleteAccount() {
  const ids = { heading: useId(), input: useId(), error: useId() };
  const [unconfirmed, setUnconfirmed] = useState(false);
  const remove = useMutation(
    trpc.account.delete.mutationOptions({ onSuccess: () => endSession('Your account was deleted.') }),
  );
  const error = unconfirmed ? `Type ${CONFIRM_WORD} to confirm` : remove.error;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const input = event.currentTarget.elements.namedItem('confirm') as HTMLInputElement;
    const isConfirmed = input.value.trim() === CONFIRM_WORD;
    setUnconfirmed(!isConfirmed);
    if (isConfirmed) remove.mutate();
    else input.focus();
  }

  return (
    <section aria-labelledby={ids.heading} className="danger-zone">
      <h2 id={ids.heading}>Delete account</h2>
      <p>
        This deletes your account and signs you out everywhere. It cannot be undone. A last mail confirms it to your
        address.
      </p>
      <form onSubmit={submit} className="narrow">
        <label htmlFor={ids.input}>Type {CONFIRM_WORD} to confirm</label>
        <input
          id={ids.input}
          name="confirm"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          required
          aria-invalid={!!error}
          aria-describedby={ids.error}
        />
        <ErrorMessage error={error} id={ids.error} />
        <button type="submit" className="danger" disabled={remove.isPending}>
          Delete account
        </button>
      </form>
    </section>
  );
}
