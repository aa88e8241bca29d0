// Routes and the signed-in layout. Pages live in ./pages, one per file.
import { useMutation } from '@tanstack/react-query';
import { Link, Redirect, Route, Switch } from 'wouter';
import { endSession } from './auth/session.ts';
import { useMe } from './auth/use-me.ts';
import { ErrorMessage } from './components/ErrorMessage.tsx';
import { AdminPage } from './pages/AdminPage.tsx';
import { AuthPage } from './pages/AuthPage.tsx';
import { ChangePasswordPage } from './pages/ChangePasswordPage.tsx';
import { HomePage } from './pages/HomePage.tsx';
import { SessionsPage } from './pages/SessionsPage.tsx';
import { trpc } from './trpc.ts';

export function App() {
  return (
    <Switch>
      <Route path="/sign-in">
        <AuthPage mode="sign-in" />
      </Route>
      <Route path="/register">
        <AuthPage mode="register" />
      </Route>
      <Route>
        <SignedIn />
      </Route>
    </Switch>
  );
}

function SignedIn() {
  const me = useMe();
  const signOut = useMutation(trpc.auth.logout.mutationOptions({ onSuccess: () => endSession('You signed out.') }));
  if (me.isPending) return <p className="loading">Loading…</p>;
  if (me.isError) return <Redirect to="/sign-in" />;
  const isAdmin = me.data.role === 'admin';
  return (
    <>
      <header>
        <nav aria-label="Main">
          <Link href="/" className="brand">
            tRPC JWT starter
          </Link>
          <Link href="/">Home</Link>
          <Link href="/sessions">Sessions</Link>
          <Link href="/password">Change password</Link>
          {isAdmin && <Link href="/admin">Admin</Link>}
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
          <Route path="/sessions" component={SessionsPage} />
          <Route path="/password" component={ChangePasswordPage} />
          {isAdmin && <Route path="/admin" component={AdminPage} />}
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
