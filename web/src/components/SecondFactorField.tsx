// The second-factor input every step that asks for one shares (sign-in, password reset,
// confirming it is you): a code from the authenticator app, or a recovery code instead.
import { useId, useState } from 'react';
import { ErrorMessage } from './ErrorMessage.tsx';

export type SecondFactorProof = { code: string } | { recoveryCode: string };

/** The proof a form holding a SecondFactorField carries. */
export function readSecondFactor(form: HTMLFormElement): SecondFactorProof {
  const data = new FormData(form);
  const code = data.get('code');
  return code !== null ? { code: String(code).replace(/\s/g, '') } : { recoveryCode: String(data.get('recoveryCode')) };
}

export function SecondFactorField({ error, autoFocus = false }: { error: unknown; autoFocus?: boolean }) {
  const ids = { input: useId(), error: useId() };
  const [useRecoveryCode, setUseRecoveryCode] = useState(false);
  return (
    <>
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
            autoFocus
            aria-invalid={!!error}
            aria-describedby={ids.error}
          />
        </>
      ) : (
        <>
          <label htmlFor={ids.input}>Code from your authenticator app</label>
          <input
            key="code"
            id={ids.input}
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="\s*\d{3}\s?\d{3}\s*"
            maxLength={7}
            required
            autoFocus={autoFocus}
            aria-invalid={!!error}
            aria-describedby={ids.error}
          />
        </>
      )}
      <ErrorMessage error={error} id={ids.error} />
      <button type="button" className="link" onClick={() => setUseRecoveryCode(!useRecoveryCode)}>
        {useRecoveryCode ? 'Use a code from the app instead' : 'Lost your phone? Use a recovery code'}
      </button>
    </>
  );
}
