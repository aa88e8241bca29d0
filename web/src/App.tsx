// Routes and the signed-in layout. Pages live in ./pages, one per file.
import { useMutation } from '@tanstack/react-query';
import { type ReactNode, lazy, Suspense, useEffect, useRef } from 'react';
import { Link, Redirect, Route, Switch, useLocation, useRoute } from 'wouter';
import { signInPathFor } from './auth/return-path.ts';
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
import { APP_NAME, usePageTitle } from './use-page-title.ts';

// Vite replaces import.meta.env.DEV with false in a build: the page's chunk is never emitted.
const DevMailboxPage = import.meta.env.DEV
  ? lazy(() => import('./pages/DevMailboxPage.tsx').then(({ DevMailboxPage }) => ({ default: DevMailboxPage })))
  : null;

export function App() {
  return (
    <>
      {import.meta.env.DEV && <DevBanner />}
      <Switch>
        <Route path="/sign-in">
          <SignedOutLayout>
            <SignInPage />
          </SignedOutLayout>
        </Route>
        <Route path="/register">
          <SignedOutLayout>
            <RequestLinkPage mode="sign-up" />
          </SignedOutLayout>
        </Route>
        <Route path="/forgot-password">
          <SignedOutLayout>
            <RequestLinkPage mode="reset" />
          </SignedOutLayout>
        </Route>
        {/* Where the e-mailed links land; each works signed in or not. */}
        <Route path="/complete-sign-up">
          <SignedOutLayout>
            <SetPasswordPage mode="sign-up" />
          </SignedOutLayout>
        </Route>
        <Route path="/reset-password">
          <SignedOutLayout>
            <SetPasswordPage mode="reset" />
          </SignedOutLayout>
        </Route>
        <Route path="/confirm-email">
          <SignedOutLayout>
            <ConfirmEmailPage />
          </SignedOutLayout>
        </Route>
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
  const [location] = useLocation();
  if (me.isPending) return <p className="loading">Loading…</p>;
  if (me.isError) return <Unavailable error={me.error} onRetry={() => void me.refetch()} />;
  // Back to this page once signed in (SignInPage checks the path it is given).
  if (me.data === null) return <Redirect to={signInPathFor(`${location}${window.location.search}`)} />;
  if (permissions.isPending) return <p className="loading">Loading…</p>;
  const canSeeNotes = permissions.can('note:read');
  const canAdminister = permissions.can('user:read:any');
  return (
    <>
      <header>
        <Link href="/" className="brand">
          {APP_NAME}
        </Link>
        {/* One row at any width: on a phone the links scroll sideways inside the bar. */}
        <nav aria-label="Main">
          <NavLink href="/">Home</NavLink>
          {canSeeNotes && <NavLink href="/notes">Notes</NavLink>}
          <NavLink href="/sessions">Sessions</NavLink>
          <NavLink href="/account">Account</NavLink>
          <NavLink href="/security">Security</NavLink>
          {canAdminister && <NavLink href="/admin">Admin</NavLink>}
        </nav>
        <button type="button" className="sign-out" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
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
          <Route component={NotFound} />
        </Switch>
      </main>
    </>
  );
}

/** The app's name above the sign-in, sign-up and link pages, as the signed-in header shows it. */
function SignedOutLayout({ children }: { children: ReactNode }) {
  return (
    <>
      <header className="signed-out">
        <Link href="/" className="brand">
          {APP_NAME}
        </Link>
      </header>
      {children}
    </>
  );
}

/** A link of the main navigation: marked as the current page where it is (aria-current). */
function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const [isActive] = useRoute(href === '/' ? '/' : `${href}/*?`);
  const ref = useRef<HTMLAnchorElement>(null);
  // On a phone the links scroll sideways: the current one is brought into the bar.
  useEffect(() => {
    if (isActive) ref.current?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [isActive]);
  return (
    <Link href={href} ref={ref} aria-current={isActive ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function NotFound() {
  usePageTitle('Page not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link href="/">Go home</Link>
      </p>
    </>
  );
}

/** Who the user is could not be asked: the server is down or unreachable (a 401 ends in sign-in instead). */
function Unavailable({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  usePageTitle('Cannot reach the server');
  return (
    <main className="narrow">
      <h1>Cannot reach the server</h1>
      <ErrorMessage error={error} />
      <button type="button" onClick={onRetry}>
        Try again
      </button>
    </main>
  );
}
