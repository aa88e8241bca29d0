// Sign in with e-mail and password. Accounts come from the sign-up link (RequestLinkPage).
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId } from 'react';
import { Link } from 'wouter';
import { useHistoryState } from 'wouter/use-browser-location';
import { useSignedIn } from '../auth/use-me.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';

export function SignInPage() {
  const notice = (useHistoryState() as { notice?: string } | null)?.notice;
  const ids = { email: useId(), password: useId(), error: useId() };
  const signedIn = useSignedIn();
  const login = useMutation(trpc.auth.login.mutationOptions({ onSuccess: ({ user }) => signedIn(user) }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    login.mutate({ email: String(form.get('email')), password: String(form.get('password')) });
  }

  return (
    <main className="narrow">
      <h1>Sign in</h1>
      {notice && !login.isSuccess && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label htmlFor={ids.email}>Email</label>
        <input id={ids.email} name="email" type="email" autoComplete="email" required />
        <label htmlFor={ids.password}>Password</label>
        <input
          id={ids.password}
          name="password"
          type="password"
          autoComplete="current-password"
          maxLength={256}
          required
          aria-invalid={login.isError}
          aria-describedby={ids.error}
        />
        <ErrorMessage error={login.error} id={ids.error} />
        <button type="submit" disabled={login.isPending}>
          Sign in
        </button>
      </form>
      <p>
        <Link href="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link href="/register">Create account</Link>
      </p>
    </main>
  );
}
