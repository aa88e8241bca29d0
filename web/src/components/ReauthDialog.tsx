// "Confirm your password" (or "Confirm it is you", with a second factor): opened by
// reauthLink when a recent-auth procedure needs a fresh proof. Rendered once, in App. A native modal <dialog> keeps focus inside it,
// closes on Escape and hides the page from screen readers while open.
import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import { isReauthRequested, settleReauth, subscribeReauth } from '../auth/reauth-prompt.ts';
import { trpc } from '../trpc.ts';
import { ErrorMessage } from './ErrorMessage.tsx';
import { SecondFactorField, readSecondFactor } from './SecondFactorField.tsx';

// The element focused last: when the dialog opens, the button that led to it has already
// lost focus (a button disabled while its call is pending drops it).
let lastFocused: HTMLElement | null = null;
document.addEventListener('focusin', ({ target }) => {
  if (target instanceof HTMLElement) lastFocused = target;
});

/** Focuses `element` once it can take focus again, unless the user has moved on meanwhile. */
function restoreFocus(element: HTMLElement) {
  if (!element.matches(':disabled')) return element.focus();
  const observer = new MutationObserver(() => {
    if (element.matches(':disabled')) return;
    observer.disconnect();
    if (document.activeElement === document.body) element.focus();
  });
  observer.observe(element, { attributeFilter: ['disabled'] });
}

export function ReauthDialog() {
  const isRequested = useSyncExternalStore(subscribeReauth, isReauthRequested);
  // Mounted per request, so each opens empty, without the last attempt's error.
  return isRequested ? <PasswordDialog /> : null;
}

function PasswordDialog() {
  const ids = { title: useId(), input: useId(), error: useId() };
  const dialog = useRef<HTMLDialogElement>(null);
  const reauthenticate = useMutation(trpc.auth.reauthenticate.mutationOptions({ onSuccess: () => settleReauth(true) }));
  // An account with a second factor may confirm with it instead of the password.
  const status = useQuery(trpc.secondFactor.status.queryOptions()).data;
  const hasTotp = status?.totp ?? false;
  const hasPasskey = (status?.passkeys ?? 0) > 0;
  const hasFactor = hasTotp || hasPasskey;
  const [withCode, setWithCode] = useState(false);

  useEffect(() => {
    const element = dialog.current!;
    const opener = lastFocused;
    // showModal() focuses the first field, the password.
    if (!element.open) element.showModal();
    return () => {
      element.close();
      if (opener) restoreFocus(opener);
    };
  }, []);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (withCode) reauthenticate.mutate({ secondFactor: readSecondFactor(event.currentTarget) });
    else reauthenticate.mutate({ password: String(new FormData(event.currentTarget).get('password')) });
  }

  return (
    <dialog ref={dialog} aria-labelledby={ids.title} onCancel={() => settleReauth(false)} className="reauth">
      <form onSubmit={submit}>
        <h2 id={ids.title}>{hasFactor ? 'Confirm it is you' : 'Confirm your password'}</h2>
        <p>
          This action needs your password again
          {hasTotp ? ', or a code from your authenticator app' : hasPasskey ? ', or your passkey' : ''}.
        </p>
        {withCode ? (
          <SecondFactorField
            error={reauthenticate.error}
            autoFocus
            totp={hasTotp}
            onPasskey={hasPasskey ? (passkey) => reauthenticate.mutate({ secondFactor: { passkey } }) : undefined}
          />
        ) : (
          <>
            <label htmlFor={ids.input}>Password</label>
            <input
              id={ids.input}
              name="password"
              type="password"
              autoComplete="current-password"
              maxLength={256}
              required
              aria-invalid={reauthenticate.isError}
              aria-describedby={ids.error}
            />
            <ErrorMessage error={reauthenticate.error} id={ids.error} />
          </>
        )}
        {hasFactor && (
          <button
            type="button"
            className="link"
            onClick={() => {
              reauthenticate.reset();
              setWithCode(!withCode);
            }}
          >
            {withCode
              ? 'Use my password instead'
              : hasTotp
                ? 'Use my authenticator app instead'
                : 'Use my passkey instead'}
          </button>
        )}
        <div className="actions">
          <button type="button" onClick={() => settleReauth(false)}>
            Cancel
          </button>
          <button type="submit" disabled={reauthenticate.isPending}>
            Confirm
          </button>
        </div>
      </form>
    </dialog>
  );
}
