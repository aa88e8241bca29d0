// Every procedure declares who may call it; nothing is public by accident.
import { expect, test } from 'vitest';
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
    'auth.register': 'public',
    'auth.completeRegistration': 'public',
    'auth.login': 'public',
    'auth.refresh': 'public',
    'auth.requestPasswordReset': 'public',
    'auth.resetPassword': 'public',
    'auth.logout': 'signed-in',
    'auth.reauthenticate': 'signed-in',
    'auth.changePassword': 'signed-in',
    // Native clients only (the bearer transport); browsers get 403.
    'auth.exchangeToken': 'signed-in',
    'user.me': 'signed-in',
    'account.changeEmail': 'recent-auth',
    'account.confirmEmailChange': 'public',
    'account.delete': 'recent-auth',
    'session.list': 'signed-in',
    'session.revoke': 'signed-in',
    'session.revokeOthers': 'recent-auth',
    'admin.listUsers': { roles: ['admin'] },
    'admin.setRole': { roles: ['admin'] },
    'admin.revokeUserSessions': { roles: ['admin'] },
    'admin.auditEvents': { roles: ['admin'] },
    // Example: calls examples/reports-service with an exchanged token.
    'reports.summary': 'signed-in',
    // Development only: answers 404 unless NODE_ENV=development.
    'dev.mailbox': 'public',
  });
});

test('admin procedures require the admin role', () => {
  const admin = procedures.filter(([path]) => path.startsWith('admin.'));
  expect(admin.length).toBeGreaterThan(0);
  for (const [path, p] of admin) expect(p._def.meta?.access, path).toEqual({ roles: ['admin'] });
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
