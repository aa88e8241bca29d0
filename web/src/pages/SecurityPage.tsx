// Two-step verification: turn the authenticator app on (scan, then type its first code),
// see and renew the recovery codes, turn it off. Each change needs a recent proof: the
// ReauthDialog opens when the server asks, and the action goes on afterwards.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';

export function SecurityPage() {
  const heading = useId();
  const status = useQuery(trpc.secondFactor.status.queryOptions());
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);

  if (recoveryCodes) return <RecoveryCodes codes={recoveryCodes} onDone={() => setRecoveryCodes(null)} />;
  return (
    <>
      <h1>Security</h1>
      <section aria-labelledby={heading}>
        <h2 id={heading}>Two-step verification</h2>
        {status.isPending && <p className="loading">Loading…</p>}
        <ErrorMessage error={status.error} />
        {status.data &&
          (status.data.totp ? (
            <TotpOn recoveryCodesLeft={status.data.recoveryCodesLeft} onCodes={setRecoveryCodes} />
          ) : status.data.available ? (
            <TotpSetup onCodes={setRecoveryCodes} />
          ) : (
            <p>Not available on this server yet: its operator has to set ENCRYPTION_KEY (npm run setup does).</p>
          ))}
      </section>
    </>
  );
}

function useRefreshStatus() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: trpc.secondFactor.status.queryKey() });
}

function TotpSetup({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const ids = { input: useId(), error: useId(), key: useId() };
  const refreshStatus = useRefreshStatus();
  // The secret and the codes live in no cache once this component is gone.
  const begin = useMutation(trpc.secondFactor.beginTotp.mutationOptions({ gcTime: 0 }));
  const enable = useMutation(
    trpc.secondFactor.enableTotp.mutationOptions({
      gcTime: 0,
      onSuccess: async ({ recoveryCodes }) => {
        await refreshStatus();
        if (recoveryCodes) onCodes(recoveryCodes);
      },
    }),
  );

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    enable.mutate({ code: String(new FormData(event.currentTarget).get('code')).replace(/\s/g, '') });
  }

  if (!begin.data) {
    return (
      <>
        <p>
          Off. With it on, signing in asks for a code from an authenticator app on your phone after the password, so a
          stolen password alone is not enough.
        </p>
        <ErrorMessage error={begin.error} />
        <button type="button" onClick={() => begin.mutate()} disabled={begin.isPending}>
          Turn on two-step verification
        </button>
      </>
    );
  }
  const { qrCodeSvg, manualKey } = begin.data;
  return (
    <>
      <ol className="steps">
        <li>Open your authenticator app and scan this code.</li>
      </ol>
      <img
        className="qr-code"
        src={`data:image/svg+xml;utf8,${encodeURIComponent(qrCodeSvg)}`}
        alt="QR code to scan with your authenticator app"
        width={200}
        height={200}
      />
      <p>
        Cannot scan it? Type this key instead: <code id={ids.key}>{manualKey}</code>
      </p>
      <form onSubmit={submit} className="narrow">
        <label htmlFor={ids.input}>Then enter the code the app shows</label>
        <input
          id={ids.input}
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="\s*\d{3}\s?\d{3}\s*"
          maxLength={7}
          required
          aria-invalid={enable.isError}
          aria-describedby={ids.error}
        />
        <ErrorMessage error={enable.error} id={ids.error} />
        <button type="submit" disabled={enable.isPending}>
          Turn on
        </button>
      </form>
    </>
  );
}

function TotpOn({ recoveryCodesLeft, onCodes }: { recoveryCodesLeft: number; onCodes: (codes: string[]) => void }) {
  const refreshStatus = useRefreshStatus();
  const regenerate = useMutation(
    trpc.secondFactor.regenerateRecoveryCodes.mutationOptions({
      gcTime: 0,
      onSuccess: async ({ recoveryCodes }) => {
        await refreshStatus();
        onCodes(recoveryCodes);
      },
    }),
  );
  const disable = useMutation(trpc.secondFactor.disableTotp.mutationOptions({ onSuccess: refreshStatus }));
  const [confirmingOff, setConfirmingOff] = useState(false);
  return (
    <>
      <p role="status">
        <strong>On.</strong> Signing in asks for a code from your authenticator app.
      </p>
      <p>
        Recovery codes left: <strong data-testid="recovery-codes-left">{recoveryCodesLeft}</strong> of 10.
        {recoveryCodesLeft < 4 && ' Create new ones before you run out.'}
      </p>
      <ErrorMessage error={regenerate.error ?? disable.error} />
      <div className="actions">
        <button type="button" onClick={() => regenerate.mutate()} disabled={regenerate.isPending}>
          Create new recovery codes
        </button>
        <button type="button" className="danger" onClick={() => setConfirmingOff(true)} disabled={disable.isPending}>
          Turn off two-step verification
        </button>
      </div>
      {confirmingOff && (
        <div className="confirm" role="group" aria-label="Confirm turning off two-step verification">
          <p>Turn it off? Signing in will need only your password, and your recovery codes stop working.</p>
          <div className="actions">
            <button type="button" onClick={() => setConfirmingOff(false)}>
              Cancel
            </button>
            <button type="button" className="danger" onClick={() => disable.mutate()} disabled={disable.isPending}>
              Turn off
            </button>
          </div>
        </div>
      )}
    </>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const heading = useId();
  return (
    <section aria-labelledby={heading}>
      <h1 id={heading}>Your recovery codes</h1>
      <p>
        If you lose your phone, each of these signs you in once instead of a code from the app. Keep them somewhere
        safe, such as a password manager or on paper. <strong>They are shown only now.</strong>
      </p>
      <ul className="recovery-codes" data-testid="recovery-codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ul>
      <div className="actions">
        <button type="button" onClick={() => void navigator.clipboard?.writeText(codes.join('\n'))}>
          Copy
        </button>
        <button type="button" onClick={onDone}>
          I have saved them
        </button>
      </div>
    </section>
  );
}
