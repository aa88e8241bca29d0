// The SPA's entry point: take a link's token out of the address bar, then render.
import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { takeLinkToken } from './auth/link-token.ts';
import { queryClient } from './query-client.ts';
import './styles.css';

// The dev banner's and dev mailbox's styles; dead code in a build, so Vite leaves them out.
if (import.meta.env.DEV) void import('./dev.css');

// Before anything can make a request or record the URL; the page that needs it reads it again.
takeLinkToken();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
