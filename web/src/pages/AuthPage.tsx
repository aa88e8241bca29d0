// Sign in and Create account: one form, two procedures.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId } from 'react';
import { Link, useLocation } from 'wouter';
import { useHistoryState } from 'wouter/use-browser-location';
import { announceSignIn } from '../auth/session.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';

export function AuthPage({ mode }: { mode: 'sign-in' | 'register' }) {
  const isRegister = mode === 'register';
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  const notice = (useHistoryState() as { notice?: string } | null)?.notice;
  const ids = { email: useId(), password: useId() };
  const options = {
    onSuccess: ({ user }: { user: { id: string; email: string; role: 'user' | 'admin' } }) => {
      queryClient.setQueryData(trpc.user.me.queryKey(), user);
      announceSignIn();
      navigate('/');
    },
  };
  const login = useMutation(trpc.auth.login.mutationOptions(options));
  const register = useMutation(trpc.auth.register.mutationOptions(options));
  const mutation = isRegister ? register : login;

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    mutation.mutate({ email: String(form.get('email')), password: String(form.get('password')) });
  }

  return (
    <main className="narrow">
      <h1>{isRegister ? 'Create account' : 'Sign in'}</h1>
      {notice && !mutation.isSuccess && (
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
          autoComplete={isRegister ? 'new-password' : 'current-password'}
          minLength={isRegister ? 8 : undefined}
          maxLength={256}
          required
        />
        <ErrorMessage error={mutation.error} />
        <button type="submit" disabled={mutation.isPending}>
          {isRegister ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <p>
        {isRegister ? (
          <>
            Have an account? <Link href="/sign-in">Sign in</Link>
          </>
        ) : (
          <>
            New here? <Link href="/register">Create account</Link>
          </>
        )}
      </p>
    </main>
  );
}
