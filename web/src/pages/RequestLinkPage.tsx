// Create account and Forgot password: both ask for an e-mail address only and mail a link
// (to /complete-sign-up or /reset-password). The server answers the same whether or not
// the address has an account, so this page says the same too.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useEffect, useId, useRef } from 'react';
import { Link } from 'wouter';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

type Mode = 'sign-up' | 'reset';

export function RequestLinkPage({ mode }: { mode: Mode }) {
  usePageTitle(mode === 'sign-up' ? 'Create account' : 'Forgot password');
  const isSignUp = mode === 'sign-up';
  const ids = { email: useId(), error: useId() };
  const register = useMutation(trpc.auth.register.mutationOptions());
  const requestReset = useMutation(trpc.auth.requestPasswordReset.mutationOptions());
  const request = isSignUp ? register : requestReset;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    request.mutate({ email: String(new FormData(event.currentTarget).get('email')) });
  }

  if (request.isSuccess) return <CheckInbox mode={mode} email={request.variables.email} onRetry={request.reset} />;
  return (
    <main className="narrow">
      <h1>{isSignUp ? 'Create account' : 'Forgot your password?'}</h1>
      <p>
        {isSignUp
          ? 'Enter your e-mail address. We will send you a link to choose a password.'
          : 'Enter the e-mail address of your account. We will send you a link to choose a new password.'}
      </p>
      <form onSubmit={submit}>
        <label htmlFor={ids.email}>Email</label>
        <input
          id={ids.email}
          name="email"
          type="email"
          autoComplete="email"
          maxLength={254}
          required
          aria-invalid={request.isError}
          aria-describedby={ids.error}
        />
        <ErrorMessage error={request.error} id={ids.error} />
        <button type="submit" disabled={request.isPending}>
          {isSignUp ? 'Send sign-up link' : 'Send reset link'}
        </button>
      </form>
      <p>
        {isSignUp ? 'Have an account?' : 'Remembered it?'} <Link href="/sign-in">Sign in</Link>
      </p>
    </main>
  );
}

function CheckInbox({ mode, email, onRetry }: { mode: Mode; email: string; onRetry: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // The form is gone: move focus to what replaced it, so a screen reader reads it next.
  useEffect(() => heading.current?.focus(), []);
  const address = <strong className="address">{email}</strong>;
  return (
    <main className="narrow">
      <h1 ref={heading} tabIndex={-1}>
        Check your inbox
      </h1>
      <p role="status">
        {mode === 'sign-up' ? (
          <>We sent a mail to {address}. Open the link in it to choose a password and finish creating your account.</>
        ) : (
          <>If {address} has an account, we sent it a mail. Open the link in it to choose a new password.</>
        )}
      </p>
      <p>
        No mail after a few minutes? Look in your spam folder, or{' '}
        <button type="button" className="link" onClick={onRetry}>
          try again
        </button>
        .
      </p>
    </main>
  );
}
