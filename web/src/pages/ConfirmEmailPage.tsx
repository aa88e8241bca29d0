// Where the e-mail-change link lands (it went to the new address). Works signed in or not,
// in any browser: the token alone proves the new address, so it is posted at once.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { takeLinkToken } from '../auth/link-token.ts';
import { meQueryKey } from '../auth/use-me.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

export function ConfirmEmailPage() {
  usePageTitle('Confirm e-mail');
  const [token] = useState(takeLinkToken);
  const queryClient = useQueryClient();
  const confirm = useMutation(
    trpc.account.confirmEmailChange.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: meQueryKey() }),
    }),
  );
  const { mutate } = confirm;
  const isPosted = useRef(false);
  useEffect(() => {
    // Once, even where StrictMode runs effects twice: a link works only once.
    if (!token || isPosted.current) return;
    isPosted.current = true;
    mutate({ token });
  }, [token, mutate]);

  if (!token) {
    return (
      <main className="narrow">
        <h1>Open the link from your e-mail</h1>
        <p>This page needs the link we sent to your new address. Open it again from the mail.</p>
      </main>
    );
  }
  return (
    <main className="narrow">
      <h1>
        {confirm.isSuccess ? 'Address confirmed' : confirm.isError ? 'The address was not changed' : 'Confirming…'}
      </h1>
      {confirm.isSuccess && (
        <p role="status">
          Your account's e-mail address is now <strong className="address">{confirm.data.email}</strong>.
        </p>
      )}
      <ErrorMessage error={confirm.error} />
      {!confirm.isPending && (
        <p>
          <Link href="/account">Go to your account</Link>
        </p>
      )}
    </main>
  );
}
