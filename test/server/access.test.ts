// Every procedure declares who may call it; nothing is public by accident.
import { expect, test } from 'vitest';
import type { Permission } from '../../server/auth/permissions.ts';
import { ROLES, ROLE_PERMISSIONS } from '../../server/auth/roles.ts';
import { appRouter } from '../../server/routers/_app.ts';
import type { Access } from '../../server/trpc.ts';
import { createClient } from '../helpers/client.ts';
import { startServer } from '../helpers/server.ts';

const procedures = Object.entries(appRouter._def.procedures) as [
  string,
  { _def: { type: 'query' | 'mutation' | 'subscription'; meta?: { access?: Access } } },
][];

test('every procedure has a declared access level', () => {
  const undeclared = procedures.filter(([, p]) => p._def.meta?.access === undefined).map(([path]) => path);
  expect(undeclared).toEqual([]);
});

test('every procedure and its access, reviewed: a change of access shows here', () => {
  const access = Object.fromEntries(procedures.map(([path, p]) => [path, p._def.meta?.access]));
  expect(access).toEqual({
    health: 'public',
    'auth.session': 'public',
    'auth.register': 'public',
    'auth.completeRegistration': 'public',
    'auth.login': 'public',
    'auth.refresh': 'public',
    'auth.requestPasswordReset': 'public',
    'auth.resetPassword': 'public',
    // Needs the second-factor step's cookie (or a native client's challenge) from auth.login.
    'auth.completeSignIn': 'public',
    'auth.passkeyOptions': 'public',
    'auth.signInWithPasskey': 'public',
    'auth.logout': 'signed-in',
    'auth.reauthenticate': 'signed-in',
    'auth.changePassword': 'signed-in',
    // Native clients only (the bearer transport); browsers get 403.
    'auth.exchangeToken': 'signed-in',
    'user.me': 'signed-in',
    'user.permissions': 'signed-in',
    'account.changeEmail': 'recent-auth',
    'account.confirmEmailChange': 'public',
    'account.delete': 'recent-auth',
    'session.list': 'signed-in',
    'session.revoke': 'signed-in',
    'session.revokeOthers': 'recent-auth',
    'secondFactor.status': 'signed-in',
    'secondFactor.beginTotp': 'recent-auth',
    'secondFactor.enableTotp': 'recent-auth',
    'secondFactor.disableTotp': 'recent-auth',
    'secondFactor.regenerateRecoveryCodes': 'recent-auth',
    'passkey.list': 'signed-in',
    'passkey.registrationOptions': 'recent-auth',
    'passkey.register': 'recent-auth',
    'passkey.rename': 'signed-in',
    'passkey.remove': 'recent-auth',
    'admin.listUsers': { permission: 'user:read:any' },
    'admin.setRole': { permission: 'user:update:any' },
    'admin.setDisabled': { permission: 'user:update:any' },
    'admin.revokeUserSessions': { permission: 'user:update:any' },
    'admin.sendPasswordReset': { permission: 'user:update:any' },
    'admin.removeSecondFactor': { permission: 'user:update:any' },
    'admin.auditEvents': { permission: 'audit:read:any' },
    // The example resource: `:own` is enough to call; each row is then checked (note.ts).
    'note.list': { permission: 'note:read' },
    'note.get': { permission: 'note:read' },
    'note.create': { permission: 'note:create' },
    'note.update': { permission: 'note:update' },
    'note.delete': { permission: 'note:delete' },
    // Example: calls examples/reports-service with an exchanged token.
    'reports.summary': 'signed-in',
    // Development only: answers 404 unless NODE_ENV=development.
    'dev.mailbox': 'public',
  });
});

test('admin procedures require an `:any` permission that only the admin role has', () => {
  const admin = procedures.filter(([path]) => path.startsWith('admin.'));
  expect(admin.length).toBeGreaterThan(0);
  for (const [path, p] of admin) {
    const { permission } = p._def.meta?.access as { permission: Permission };
    expect(permission, path).toMatch(/:any$/);
    const holders = ROLES.filter((role) => (ROLE_PERMISSIONS[role] as readonly Permission[]).includes(permission));
    expect(holders, path).toEqual(['admin']);
  }
});

test('over HTTP, every procedure that is not public refuses a caller with no token (401 before input is read)', async () => {
  const server = await startServer();
  try {
    const client = createClient(server.url, server.config.appOrigin);
    for (const [path, p] of procedures) {
      if (p._def.meta?.access === 'public') continue;
      const res = p._def.type === 'query' ? await client.query(path) : await client.mutate(path);
      expect(res.status, path).toBe(401);
      expect(res.body.error?.data.authError, path).toBe('missing_token');
    }
  } finally {
    await server.close();
  }
});
