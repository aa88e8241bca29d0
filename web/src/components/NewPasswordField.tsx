// A password being chosen: the server's rules (8 to 256 characters, not a common one) as a
// hint, and its error next to the field.
import { useId } from 'react';
import { ErrorMessage } from './ErrorMessage.tsx';

export function NewPasswordField({ label, name, error }: { label: string; name: string; error: unknown }) {
  const ids = { input: useId(), hint: useId(), error: useId() };
  return (
    <>
      <label htmlFor={ids.input}>{label}</label>
      <small id={ids.hint} className="hint">
        At least 8 characters. Not a common password.
      </small>
      <input
        id={ids.input}
        name={name}
        type="password"
        autoComplete="new-password"
        minLength={8}
        maxLength={256}
        required
        aria-invalid={!!error}
        aria-describedby={`${ids.hint} ${ids.error}`}
      />
      <ErrorMessage error={error} id={ids.error} />
    </>
  );
}
