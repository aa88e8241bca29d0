// The second-factor input every step that asks for one shares (sign-in, password reset,
// confirming it is you): a code from the authenticator app, a passkey, or a recovery code.
import { useId, useState } from 'react';
import { passkeyAssertion, supportsPasskeys } from '../auth/passkeys.ts';
import { AppCodeInput } from './AppCodeInput.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';

export type PasskeyAssertion = Awaited<ReturnType<typeof passkeyAssertion>>;
export type SecondFactorProof = { code: string } | { recoveryCode: string } | { passkey: PasskeyAssertion };

/** The proof a form holding a SecondFactorField carries (a passkey goes through `onPasskey` instead). */
export function readSecondFactor(form: HTMLFormElement): SecondFactorProof {
  const data = new FormData(form);
  const code = data.get('code');
  return code !== null ? { code: String(code).replace(/\s/g, '') } : { recoveryCode: String(data.get('recoveryCode')) };
}

/**
 * `totp`: the account has an authenticator app (else a recovery code is the typed fallback).
 * `onPasskey`: offers "Use a passkey", and receives the authenticator's answer.
 * `canStart`: checked before the passkey prompt opens (the rest of the form is valid).
 */
export function SecondFactorField({
  error,
  autoFocus = false,
  totp = true,
  onPasskey,
  canStart = () => true,
}: {
  error: unknown;
  autoFocus?: boolean;
  totp?: boolean;
  onPasskey?: (passkey: PasskeyAssertion) => void;
  canStart?: () => boolean;
}) {
  const ids = { input: useId(), error: useId() };
  const [useRecoveryCode, setUseRecoveryCode] = useState(!totp);
  const [passkeyError, setPasskeyError] = useState<unknown>(null);
  const [asking, setAsking] = useState(false);

  async function askPasskey() {
    if (!canStart()) return;
    setPasskeyError(null);
    setAsking(true);
    try {
      onPasskey!(await passkeyAssertion());
    } catch (failure) {
      setPasskeyError(failure);
    } finally {
      setAsking(false);
    }
  }

  return (
    <>
      {onPasskey && supportsPasskeys && (
        <>
          <button type="button" className="wide" onClick={() => void askPasskey()} disabled={asking}>
            Use a passkey
          </button>
          {passkeyError !== null && <ErrorMessage error={passkeyError} />}
          <p className="separator">or</p>
        </>
      )}
      {useRecoveryCode ? (
        <>
          <label htmlFor={ids.input}>Recovery code</label>
          <input
            key="recovery"
            id={ids.input}
            name="recoveryCode"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            placeholder="xxxxx-xxxxx"
            maxLength={32}
            required
            autoFocus={autoFocus || totp}
            aria-invalid={!!error}
            aria-describedby={ids.error}
          />
        </>
      ) : (
        <>
          <label htmlFor={ids.input}>Code from your authenticator app</label>
          <AppCodeInput
            key="code"
            id={ids.input}
            autoFocus={autoFocus}
            invalid={!!error}
            aria-describedby={ids.error}
          />
        </>
      )}
      <ErrorMessage error={error} id={ids.error} />
      {totp && (
        <button type="button" className="link" onClick={() => setUseRecoveryCode(!useRecoveryCode)}>
          {useRecoveryCode ? 'Use a code from the app instead' : 'Lost your phone? Use a recovery code'}
        </button>
      )}
    </>
  );
}
