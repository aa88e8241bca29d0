import { usePageTitle } from '../use-page-title.ts';

export function HomePage({ user }: { user: { id: string; email: string; role: string } }) {
  usePageTitle('Home');
  return (
    <>
      <h1>Welcome</h1>
      <dl className="facts">
        <dt>Signed in as</dt>
        <dd data-testid="me-email">{user.email}</dd>
        <dt>Role</dt>
        <dd data-testid="me-role">{user.role}</dd>
      </dl>
    </>
  );
}
