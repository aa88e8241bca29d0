// Routes and the signed-in layout. Pages live in ./pages, one per file.
import { useMutation } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { Link, Redirect, Route, Switch } from 'wouter';
import { endSession } from './auth/session.ts';
import { useMe } from './auth/use-me.ts';
import { usePermissions } from './auth/use-permissions.ts';
import { DevBanner } from './components/DevBanner.tsx';
import { ErrorMessage } from './components/ErrorMessage.tsx';
import { ReauthDialog } from './components/ReauthDialog.tsx';
import { AccountPage } from './pages/AccountPage.tsx';
import { AdminPage } from './pages/AdminPage.tsx';
import { ChangePasswordPage } from './pages/ChangePasswordPage.tsx';
import { ConfirmEmailPage } from './pages/ConfirmEmailPage.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { NotesPage } from './pages/NotesPage.tsx';
import { RequestLinkPage } from './pages/RequestLinkPage.tsx';
import { SecurityPage } from './pages/SecurityPage.tsx';
import { SessionsPage } from './pages/SessionsPage.tsx';
import { SetPasswordPage } from './pages/SetPasswordPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { trpc } from './trpc.ts';

// Vite replaces import.meta.env.DEV with false in a build: the page's chunk is never emitted.
const DevMailboxPage = import.meta.env.DEV
  ? lazy(() => import('./pages/DevMailboxPage.tsx').then(({ DevMailboxPage }) => ({ default: DevMailboxPage })))
  : null;

export function App() {
  return (
    <>
      {import.meta.env.DEV && <DevBanner />}
      <Switch>
        <Route path="/sign-in" component={SignInPage} />
        <Route path="/register">
          <RequestLinkPage mode="sign-up" />
        </Route>
        <Route path="/forgot-password">
          <RequestLinkPage mode="reset" />
        </Route>
        {/* Where the e-mailed links land; each works signed in or not. */}
        <Route path="/complete-sign-up">
          <SetPasswordPage mode="sign-up" />
        </Route>
        <Route path="/reset-password">
          <SetPasswordPage mode="reset" />
        </Route>
        <Route path="/confirm-email" component={ConfirmEmailPage} />
        {DevMailboxPage && (
          <Route path="/dev/mailbox">
            <Suspense fallback={<p className="loading">Loading…</p>}>
              <DevMailboxPage />
            </Suspense>
          </Route>
        )}
        <Route>
          <SignedIn />
        </Route>
      </Switch>
      <ReauthDialog />
    </>
  );
}

function SignedIn() {
  const me = useMe();
  // What the role may do decides which links and routes exist; the server checks every call anyway.
  const permissions = usePermissions();
  const signOut = useMutation(trpc.auth.logout.mutationOptions({ onSuccess: () => endSession('You signed out.') }));
  if (me.isPending) return <p className="loading">Loading…</p>;
  if (me.isError) return <Redirect to="/sign-in" />;
  if (permissions.isPending) return <p className="loading">Loading…</p>;
  const canSeeNotes = permissions.can('note:read');
  const canAdminister = permissions.can('user:read:any');
  return (
    <>
      <header>
        <nav aria-label="Main">
          <Link href="/" className="brand">
            tRPC JWT starter
          </Link>
          <Link href="/">Home</Link>
          {canSeeNotes && <Link href="/notes">Notes</Link>}
          <Link href="/sessions">Sessions</Link>
          <Link href="/account">Account</Link>
          <Link href="/security">Security</Link>
          {canAdminister && <Link href="/admin">Admin</Link>}
        </nav>
        <button type="button" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
          Sign out
        </button>
      </header>
      <main>
        <ErrorMessage error={signOut.error} />
        <Switch>
          <Route path="/">
            <HomePage user={me.data} />
          </Route>
          {canSeeNotes && (
            <Route path="/notes">
              <NotesPage user={me.data} />
            </Route>
          )}
          <Route path="/sessions" component={SessionsPage} />
          <Route path="/account">
            <AccountPage user={me.data} />
          </Route>
          <Route path="/password" component={ChangePasswordPage} />
          <Route path="/security" component={SecurityPage} />
          {canAdminister && <Route path="/admin" component={AdminPage} />}
          <Route>
            <h1>Page not found</h1>
            <p>
              <Link href="/">Go home</Link>
            </p>
          </Route>
        </Switch>
      </main>
    </>
  );
}
