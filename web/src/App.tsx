// The SPA's root. For now it shows whether the API and its database answer.
import { useEffect, useState } from 'react';
import { trpc } from './trpc.ts';

type Status = 'checking' | 'ok' | 'unreachable';

export function App() {
  const [status, setStatus] = useState<Status>('checking');

  useEffect(() => {
    trpc.health
      .query()
      .then(() => setStatus('ok'))
      .catch(() => setStatus('unreachable'));
  }, []);

  return (
    <main>
      <h1>tRPC JWT starter</h1>
      <p role="status" aria-live="polite">
        API: <strong data-status={status}>{status}</strong>
      </p>
    </main>
  );
}
