import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId } from 'react';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';

export function ChangePasswordPage() {
  const ids = { current: useId(), next: useId() };
  const change = useMutation(trpc.auth.changePassword.mutationOptions());

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    change.mutate(
      { currentPassword: String(form.get('currentPassword')), newPassword: String(form.get('newPassword')) },
      { onSuccess: () => (event.target as HTMLFormElement).reset() },
    );
  }

  return (
    <>
      <h1>Change password</h1>
      <form onSubmit={submit} className="narrow">
        <label htmlFor={ids.current}>Current password</label>
        <input id={ids.current} name="currentPassword" type="password" autoComplete="current-password" required />
        <label htmlFor={ids.next}>New password</label>
        <input
          id={ids.next}
          name="newPassword"
          type="password"
          autoComplete="new-password"
          minLength={8}
          maxLength={256}
          required
        />
        <ErrorMessage error={change.error} />
        <button type="submit" disabled={change.isPending}>
          Change password
        </button>
      </form>
      {change.isSuccess && (
        <p role="status">
          Password changed. {change.data.endedSessions} other session
          {change.data.endedSessions === 1 ? ' was' : 's were'} signed out.
        </p>
      )}
    </>
  );
}
