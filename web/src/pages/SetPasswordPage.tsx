// Where the sign-up and password-reset links land: choose a password, and be signed in.
// The token was taken out of the address bar at startup (auth/link-token.ts).
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { Link } from 'wouter';
import { takeLinkToken } from '../auth/link-token.ts';
import { authErrorOf } from '../auth/refresh-link.ts';
import { type Me, useSignedIn } from '../auth/use-me.ts';
import { NewPasswordField } from '../components/NewPasswordField.tsx';
import { type SecondFactorProof, SecondFactorField, readSecondFactor } from '../components/SecondFactorField.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

export function SetPasswordPage({ mode }: { mode: 'sign-up' | 'reset' }) {
  usePageTitle(mode === 'sign-up' ? 'Choose a password' : 'Choose a new password');
  const isSignUp = mode === 'sign-up';
  const [token] = useState(takeLinkToken);
  const signedIn = useSignedIn();
  const options = { onSuccess: ({ user }: { user: Me }) => signedIn(user) };
  const complete = useMutation(trpc.auth.completeRegistration.mutationOptions(options));
  // An account with a second factor: the server asks for it before the link does anything.
  // What it asks for: the account's factors (the answer names them), null until asked.
  const [methods, setMethods] = useState<readonly string[] | null>(null);
  const asksSecondFactor = methods !== null;
  const reset = useMutation(
    trpc.auth.resetPassword.mutationOptions({
      ...options,
      onError: (error) => {
        if (authErrorOf(error) === 'second_factor_required') setMethods(error.data?.secondFactorMethods ?? []);
      },
    }),
  );
  // Once the code is asked for, an error about it goes next to it; any other, next to the password.
  const needsSecondFactor = authErrorOf(reset.error) === 'second_factor_required';
  const codeError =
    asksSecondFactor && !needsSecondFactor && /code|passkey/i.test(reset.error?.message ?? '') ? reset.error : null;
  const mutation = isSignUp ? complete : reset;
  const newLink = isSignUp ? '/register' : '/forgot-password';

  const form = useRef<HTMLFormElement>(null);
  const passwordField = () => form.current?.elements.namedItem('password') as HTMLInputElement | null;
  /** With a passkey, the form's password goes with the authenticator's answer. */
  function resetWith(secondFactor: SecondFactorProof) {
    reset.mutate({ token: token!, newPassword: passwordField()!.value, secondFactor });
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get('password'));
    if (isSignUp) complete.mutate({ token: token!, password });
    else {
      const secondFactor = asksSecondFactor ? readSecondFactor(event.currentTarget) : undefined;
      reset.mutate({ token: token!, newPassword: password, secondFactor });
    }
  }

  if (!token) {
    return (
      <main className="narrow">
        <h1>Open the link from your e-mail</h1>
        <p>
          This page needs the link we sent you. Open it again from the mail, or{' '}
          <Link href={newLink}>ask for a new one</Link>.
        </p>
      </main>
    );
  }
  return (
    <main className="narrow">
      <h1>{isSignUp ? 'Choose a password' : 'Choose a new password'}</h1>
      <p>
        {isSignUp
          ? 'Last step: choose the password for your new account.'
          : 'Saving it signs you out everywhere else and signs you in here.'}
      </p>
      <form onSubmit={submit} ref={form}>
        <NewPasswordField
          label={isSignUp ? 'Password' : 'New password'}
          name="password"
          error={codeError || needsSecondFactor ? null : mutation.error}
        />
        {asksSecondFactor && (
          <>
            <p>This account uses two-step verification: confirm it is you.</p>
            <SecondFactorField
              error={codeError}
              autoFocus
              totp={methods.includes('totp')}
              // The password is checked before the passkey prompt, not after it.
              canStart={() => passwordField()?.reportValidity() ?? false}
              onPasskey={methods.includes('passkey') ? (passkey) => resetWith({ passkey }) : undefined}
            />
          </>
        )}
        <button type="submit" disabled={mutation.isPending}>
          {isSignUp ? 'Create account' : 'Set new password'}
        </button>
      </form>
      <p>
        Link not working? <Link href={newLink}>Ask for a new one</Link>.
      </p>
    </main>
  );
}
