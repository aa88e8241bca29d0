// A password being chosen: the server's rules (8 to 256 characters, not a common one) shown
// before anything is typed, a second field that must repeat it (a typo here locks the user
// out of their new account), and the server's error next to the field.
import { useId, useRef } from 'react';
import { ErrorMessage } from './ErrorMessage.tsx';

export const PASSWORD_RULES = 'At least 8 characters. Not a common password.';
const DIFFERENT = 'The two passwords are not the same';

export function NewPasswordField({ label, name, error }: { label: string; name: string; error: unknown }) {
  const ids = { input: useId(), hint: useId(), repeat: useId(), error: useId() };
  const first = useRef<HTMLInputElement>(null);
  const repeat = useRef<HTMLInputElement>(null);
  // The browser's own validation blocks the submit and says why, at the second field.
  const compare = () =>
    repeat.current?.setCustomValidity(repeat.current.value === first.current?.value ? '' : DIFFERENT);
  return (
    <>
      <label htmlFor={ids.input}>{label}</label>
      <small id={ids.hint} className="hint">
        {PASSWORD_RULES}
      </small>
      <input
        ref={first}
        id={ids.input}
        name={name}
        type="password"
        autoComplete="new-password"
        minLength={8}
        maxLength={256}
        required
        onInput={compare}
        aria-invalid={!!error}
        aria-describedby={`${ids.hint} ${ids.error}`}
      />
      <label htmlFor={ids.repeat}>Repeat the {label.toLowerCase()}</label>
      <input
        ref={repeat}
        id={ids.repeat}
        type="password"
        autoComplete="new-password"
        maxLength={256}
        required
        onInput={compare}
      />
      <ErrorMessage error={error} id={ids.error} />
    </>
  );
}
