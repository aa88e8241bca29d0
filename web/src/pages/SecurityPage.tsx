// Second factors: turn the authenticator app on (scan, then type its first code) or off,
// add, rename and remove passkeys, see and renew the recovery codes. Each change needs a
// recent proof: the ReauthDialog opens when the server asks, and the action goes on afterwards.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useRef, useState } from 'react';
import { createPasskey, supportsPasskeys } from '../auth/passkeys.ts';
import { AppCodeInput } from '../components/AppCodeInput.tsx';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

export function SecurityPage() {
  usePageTitle('Security');
  const ids = { totp: useId(), passkeys: useId(), codes: useId() };
  const status = useQuery(trpc.secondFactor.status.queryOptions());
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);

  if (recoveryCodes) return <RecoveryCodes codes={recoveryCodes} onDone={() => setRecoveryCodes(null)} />;
  return (
    <>
      <h1>Security</h1>
      {status.isPending && <p className="loading">Loading…</p>}
      <ErrorMessage error={status.error} />
      {status.data && (
        <>
          <section aria-labelledby={ids.totp}>
            <h2 id={ids.totp}>Two-step verification</h2>
            {status.data.totp ? (
              <TotpOn hasPasskeys={status.data.passkeys > 0} />
            ) : status.data.available ? (
              <TotpSetup onCodes={setRecoveryCodes} />
            ) : (
              <p>Not available on this server yet: its operator has to set ENCRYPTION_KEY (npm run setup does).</p>
            )}
          </section>
          <section aria-labelledby={ids.passkeys}>
            <h2 id={ids.passkeys}>Passkeys</h2>
            <Passkeys onCodes={setRecoveryCodes} />
          </section>
          {(status.data.totp || status.data.passkeys > 0) && (
            <section aria-labelledby={ids.codes}>
              <h2 id={ids.codes}>Recovery codes</h2>
              <RecoveryCodesLeft left={status.data.recoveryCodesLeft} onCodes={setRecoveryCodes} />
            </section>
          )}
        </>
      )}
    </>
  );
}

function useRefreshStatus() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.secondFactor.status.queryKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.passkey.list.queryKey() }),
    ]);
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
        <AppCodeInput id={ids.input} invalid={enable.isError} aria-describedby={ids.error} />
        <ErrorMessage error={enable.error} id={ids.error} />
        <button type="submit" disabled={enable.isPending}>
          Turn on
        </button>
      </form>
    </>
  );
}

function TotpOn({ hasPasskeys }: { hasPasskeys: boolean }) {
  const refreshStatus = useRefreshStatus();
  const disable = useMutation(trpc.secondFactor.disableTotp.mutationOptions({ onSuccess: refreshStatus }));
  const [confirmingOff, setConfirmingOff] = useState(false);
  return (
    <>
      <p role="status">
        <strong>On.</strong> Signing in asks for a code from your authenticator app.
      </p>
      <ErrorMessage error={disable.error} />
      <div className="actions">
        <button type="button" className="danger" onClick={() => setConfirmingOff(true)} disabled={disable.isPending}>
          Turn off two-step verification
        </button>
      </div>
      {confirmingOff && (
        <div className="confirm" role="group" aria-label="Confirm turning off two-step verification">
          <p>
            {hasPasskeys
              ? 'Turn it off? Signing in with your password will ask for a passkey instead.'
              : 'Turn it off? Signing in will need only your password, and your recovery codes stop working.'}
          </p>
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

function RecoveryCodesLeft({ left, onCodes }: { left: number; onCodes: (codes: string[]) => void }) {
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
  return (
    <>
      <p>
        Each signs you in once if you lose your phone or passkeys. Left:{' '}
        <strong data-testid="recovery-codes-left">{left}</strong> of 10.
        {left < 4 && ' Create new ones before you run out.'}
      </p>
      <ErrorMessage error={regenerate.error} />
      <div className="actions">
        <button type="button" onClick={() => regenerate.mutate()} disabled={regenerate.isPending}>
          Create new recovery codes
        </button>
      </div>
    </>
  );
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const dateOf = (value: string | Date) => dateFormat.format(new Date(value));

function Passkeys({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const ids = { name: useId(), error: useId() };
  const list = useQuery(trpc.passkey.list.queryOptions());
  const refreshStatus = useRefreshStatus();
  const form = useRef<HTMLFormElement>(null);
  const add = useMutation({
    mutationFn: createPasskey,
    gcTime: 0,
    onSuccess: async ({ recoveryCodes }) => {
      form.current?.reset();
      await refreshStatus();
      if (recoveryCodes) onCodes(recoveryCodes);
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    add.mutate(String(new FormData(event.currentTarget).get('name')));
  }

  return (
    <>
      <p>
        A passkey signs you in with your device's screen lock or a security key instead of the password, and serves as
        the second step after a password. It works only on this site, so it cannot be phished.
      </p>
      <ErrorMessage error={list.error} />
      {list.data && list.data.length > 0 && (
        <ul className="sessions" data-testid="passkeys">
          {list.data.map((passkey) => (
            <PasskeyRow key={passkey.id} passkey={passkey} />
          ))}
        </ul>
      )}
      {supportsPasskeys ? (
        <form onSubmit={submit} className="narrow" ref={form}>
          <label htmlFor={ids.name}>Name of the new passkey</label>
          <input
            id={ids.name}
            name="name"
            placeholder="Laptop, phone, security key…"
            maxLength={64}
            required
            aria-invalid={add.isError}
            aria-describedby={ids.error}
          />
          <ErrorMessage error={add.error} id={ids.error} />
          <button type="submit" disabled={add.isPending}>
            Add a passkey
          </button>
        </form>
      ) : (
        <p>This browser cannot use passkeys.</p>
      )}
    </>
  );
}

type PasskeyItem = { id: string; name: string; createdAt: string | Date; lastUsedAt: string | Date | null };

function PasskeyRow({ passkey }: { passkey: PasskeyItem }) {
  const ids = { name: useId(), error: useId() };
  const refreshStatus = useRefreshStatus();
  const [editing, setEditing] = useState(false);
  const [confirmingRemove, setConfirmingRemove] = useState(false);
  const rename = useMutation(
    trpc.passkey.rename.mutationOptions({ onSuccess: async () => (await refreshStatus(), setEditing(false)) }),
  );
  const remove = useMutation(trpc.passkey.remove.mutationOptions({ onSuccess: refreshStatus }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    rename.mutate({ id: passkey.id, name: String(new FormData(event.currentTarget).get('name')) });
  }

  return (
    <li>
      {editing ? (
        <form onSubmit={submit} className="inline-form">
          <label htmlFor={ids.name} className="visually-hidden">
            New name for {passkey.name}
          </label>
          <input
            id={ids.name}
            name="name"
            defaultValue={passkey.name}
            maxLength={64}
            required
            autoFocus
            aria-describedby={ids.error}
          />
          <ErrorMessage error={rename.error} id={ids.error} />
          <div className="actions">
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="submit" disabled={rename.isPending}>
              Save
            </button>
          </div>
        </form>
      ) : (
        <>
          <div>
            <strong className="address">{passkey.name}</strong>
            <br />
            <small>
              Added {dateOf(passkey.createdAt)}
              {passkey.lastUsedAt ? `, last used ${dateOf(passkey.lastUsedAt)}` : ', not used yet'}
            </small>
          </div>
          <div className="actions">
            <button type="button" onClick={() => setEditing(true)}>
              Rename<span className="visually-hidden"> {passkey.name}</span>
            </button>
            <button type="button" className="danger" onClick={() => setConfirmingRemove(true)}>
              Remove<span className="visually-hidden"> {passkey.name}</span>
            </button>
          </div>
        </>
      )}
      {confirmingRemove && (
        <div className="confirm" role="group" aria-label={`Confirm removing ${passkey.name}`}>
          <p>Remove “{passkey.name}”? It will no longer sign you in.</p>
          <ErrorMessage error={remove.error} />
          <div className="actions">
            <button type="button" onClick={() => setConfirmingRemove(false)}>
              Cancel
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => remove.mutate({ id: passkey.id })}
              disabled={remove.isPending}
            >
              Remove
            </button>
          </div>
        </div>
      )}
    </li>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const heading = useId();
  return (
    <section aria-labelledby={heading}>
      <h1 id={heading}>Your recovery codes</h1>
      <p>
        If you lose your phone or your passkeys, each of these signs you in once instead. Keep them somewhere safe, such
        as a password manager or on paper. <strong>They are shown only now.</strong>
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
