import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId } from 'react';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { NewPasswordField } from '../components/NewPasswordField.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

export function ChangePasswordPage() {
  usePageTitle('Change password');
  const ids = { current: useId() };
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
        <NewPasswordField label="New password" name="newPassword" error={null} />
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
