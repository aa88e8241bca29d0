// The six digits from an authenticator app. `one-time-code` lets a password manager fill it;
// "123 456" is accepted (the forms drop the space), and `pattern` catches a typo before a round trip.
import type { InputHTMLAttributes } from 'react';

type Props = Pick<InputHTMLAttributes<HTMLInputElement>, 'id' | 'autoFocus' | 'aria-describedby'> & {
  invalid: boolean;
};

export function AppCodeInput({ invalid, ...props }: Props) {
  return (
    <input
      {...props}
      name="code"
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="\s*\d{3}\s?\d{3}\s*"
      maxLength={7}
      required
      aria-invalid={invalid}
    />
  );
}
