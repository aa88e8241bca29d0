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

test('the public surface is exactly the sign-in endpoints and health', () => {
  const publicPaths = procedures.filter(([, p]) => p._def.meta?.access === 'public').map(([path]) => path);
  expect(publicPaths.sort()).toEqual(['auth.login', 'auth.refresh', 'auth.register', 'health']);
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
