// Sign in with e-mail and password, or with a passkey alone. Accounts come from the sign-up
// link (RequestLinkPage); passkeys are added on the Security page.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId } from 'react';
import { Link, useSearchParams } from 'wouter';
import { useHistoryState } from 'wouter/use-browser-location';
import { authErrorOf } from '../auth/refresh-link.ts';
import { passkeyAssertion, supportsPasskeys } from '../auth/passkeys.ts';
import { safeReturnPath } from '../auth/return-path.ts';
import { useSignedIn } from '../auth/use-me.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { SecondFactorField, readSecondFactor } from '../components/SecondFactorField.tsx';
import { trpc, trpcClient } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

export function SignInPage() {
  usePageTitle('Sign in');
  const notice = (useHistoryState() as { notice?: string } | null)?.notice;
  const ids = { email: useId(), password: useId(), error: useId() };
  // The page that sent the user here, if it is one of this site's (return-path.ts).
  const returnTo = safeReturnPath(useSearchParams()[0].get('next'));
  const signedIn = useSignedIn(returnTo);
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: ({ user }) => {
        // Null: the account has a second factor, asked for next (the step's cookie is set).
        if (user) signedIn(user);
      },
    }),
  );

  const withPasskey = useMutation({
    mutationFn: async () => trpcClient.auth.signInWithPasskey.mutate({ passkey: await passkeyAssertion() }),
    onSuccess: ({ user }) => signedIn(user),
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    withPasskey.reset();
    const form = new FormData(event.currentTarget);
    login.mutate({ email: String(form.get('email')), password: String(form.get('password')) });
  }

  if (login.data?.secondFactor) {
    return (
      <SecondFactorStep methods={login.data.secondFactor.methods} returnTo={returnTo} onRestart={() => login.reset()} />
    );
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
      {supportsPasskeys && (
        <>
          <p className="separator">or</p>
          <button
            type="button"
            className="wide"
            onClick={() => {
              login.reset();
              withPasskey.mutate();
            }}
            disabled={withPasskey.isPending}
          >
            Sign in with a passkey
          </button>
          {withPasskey.isError && <ErrorMessage error={withPasskey.error} />}
        </>
      )}
      <p>
        <Link href="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link href="/register">Create account</Link>
      </p>
    </main>
  );
}

type Method = 'totp' | 'passkey' | 'recovery_code';

/** After the right password of an account with a second factor: the code or passkey, then a session. */
function SecondFactorStep({
  methods,
  returnTo,
  onRestart,
}: {
  methods: Method[];
  returnTo: string;
  onRestart: () => void;
}) {
  usePageTitle('Two-step verification');
  const totp = methods.includes('totp');
  const signedIn = useSignedIn(returnTo);
  const complete = useMutation(trpc.auth.completeSignIn.mutationOptions({ onSuccess: ({ user }) => signedIn(user) }));
  const expired = authErrorOf(complete.error) === 'second_factor_expired';

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    complete.mutate({ secondFactor: readSecondFactor(event.currentTarget) });
  }

  return (
    <main className="narrow">
      <h1>Two-step verification</h1>
      <p>
        Your password was right. Now{' '}
        {totp
          ? 'enter the code your authenticator app shows for this account'
          : supportsPasskeys
            ? 'confirm with your passkey, or enter a recovery code'
            : 'enter a recovery code (this browser cannot use passkeys)'}
        .
      </p>
      <form onSubmit={submit}>
        <SecondFactorField
          error={complete.error}
          autoFocus
          totp={totp}
          onPasskey={
            methods.includes('passkey') ? (passkey) => complete.mutate({ secondFactor: { passkey } }) : undefined
          }
        />
        <button type="submit" disabled={complete.isPending}>
          Verify and sign in
        </button>
      </form>
      {expired && (
        <p>
          <button type="button" className="link" onClick={onRestart}>
            Start signing in again
          </button>
        </p>
      )}
    </main>
  );
}
