// The example resource over real HTTP: notes users own, behind permissions. A user reaches
// only their own rows (by id, by list filter, in a batch); an admin (`note:*:any`) reaches
// every row; a note someone may not read does not exist for them (404, no id oracle).
import { expect, test } from 'vitest';
import type { CallResult, TestClient } from '../../helpers/client.ts';
import { startServersPerTest } from '../../helpers/server.ts';
import { createUser } from '../../helpers/users.ts';

const start = startServersPerTest();

interface Note {
  id: string;
  ownerId: string;
  title: string;
  body: string;
}
type Page = { notes: Note[]; nextCursor: string | null };

/** Two users with a note each, and an admin. */
async function setup() {
  const server = await start();
  const alice = await createUser(server);
  const bob = await createUser(server);
  const admin = await createUser(server, { role: 'admin' });
  const create = async (client: TestClient, title: string) =>
    (await client.mutate<Note>('note.create', { title, body: `${title} body` })).body.result!.data;
  const aliceNote = await create(alice.client, 'alice’s');
  const bobNote = await create(bob.client, 'bob’s');
  return { server, alice, bob, admin, aliceNote, bobNote, create };
}

const errorOf = (res: CallResult) => ({ status: res.status, authError: res.body.error?.data.authError ?? null });
const titlesOf = (res: CallResult<Page>) => res.body.result?.data.notes.map((n) => n.title);

test('a user creates, lists, reads, updates and deletes their own notes', async () => {
  const { alice, aliceNote } = await setup();
  expect(aliceNote).toMatchObject({ ownerId: alice.user.id, title: 'alice’s', body: 'alice’s body' });
  expect(titlesOf(await alice.client.query<Page>('note.list'))).toEqual(['alice’s']);
  expect((await alice.client.query<Note>('note.get', { id: aliceNote.id })).body.result?.data.title).toBe('alice’s');
  const updated = await alice.client.mutate<Note>('note.update', { id: aliceNote.id, title: '  renamed  ' });
  expect(updated.body.result?.data).toMatchObject({ title: 'renamed', body: 'alice’s body' });
  expect((await alice.client.mutate('note.delete', { id: aliceNote.id })).status).toBe(200);
  expect(errorOf(await alice.client.query('note.get', { id: aliceNote.id }))).toEqual({ status: 404, authError: null });
});

test.each([
  ['read it', (c: TestClient, id: string) => c.query('note.get', { id })],
  ['update it', (c: TestClient, id: string) => c.mutate('note.update', { id, title: 'mine now' })],
  ['delete it', (c: TestClient, id: string) => c.mutate('note.delete', { id })],
])('a user cannot %s by the id of someone else’s note: 404, exactly as for no note at all', async (_, act) => {
  const { server, alice, bobNote } = await setup();
  const foreign = await act(alice.client, bobNote.id);
  const missing = await act(alice.client, 'no-such-note');
  expect(errorOf(foreign)).toEqual({ status: 404, authError: null });
  expect(foreign.body.error?.message).toBe(missing.body.error?.message);
  expect((await server.db.select().from(server.db.tables.notes)).find((n) => n.id === bobNote.id)).toMatchObject({
    title: 'bob’s',
  });
});

test('a user’s list holds only their notes, and filtering by another owner is refused (403)', async () => {
  const { alice, bob } = await setup();
  expect(titlesOf(await alice.client.query<Page>('note.list'))).toEqual(['alice’s']);
  expect(titlesOf(await alice.client.query<Page>('note.list', { ownerId: alice.user.id }))).toEqual(['alice’s']);
  const filtered = await alice.client.query('note.list', { ownerId: bob.user.id });
  expect(errorOf(filtered)).toEqual({ status: 403, authError: 'insufficient_permission' });
  expect(filtered.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
});

test('a batch gets no further: each call in it is checked on its own', async () => {
  const { server, alice, aliceNote, bobNote } = await setup();
  const cookie = `__Host-access_token=${alice.client.cookie('__Host-access_token')}`;
  const input = JSON.stringify({ 0: { id: aliceNote.id }, 1: { id: bobNote.id } });
  const read = await fetch(`${server.url}/trpc/note.get,note.get?batch=1&input=${encodeURIComponent(input)}`, {
    headers: { cookie },
  });
  const [own, foreign] = (await read.json()) as { result?: { data: Note }; error?: { data: { httpStatus: number } } }[];
  expect(own?.result?.data.title).toBe('alice’s');
  expect(foreign?.error?.data.httpStatus).toBe(404);
  expect(JSON.stringify(foreign)).not.toContain('bob’s');

  const deleted = await fetch(`${server.url}/trpc/note.delete,note.delete?batch=1`, {
    method: 'POST',
    headers: { cookie, origin: server.config.appOrigin, 'content-type': 'application/json' },
    body: JSON.stringify({ 0: { id: bobNote.id }, 1: { id: aliceNote.id } }),
  });
  const results = (await deleted.json()) as { error?: { data: { httpStatus: number } } }[];
  expect(results.map((r) => r.error?.data.httpStatus ?? 200)).toEqual([404, 200]);
  expect((await server.db.select().from(server.db.tables.notes)).map((n) => n.title)).toEqual(['bob’s']);
});

test('an admin (note:*:any) lists, filters, reads, updates and deletes anyone’s notes', async () => {
  const { admin, bob, aliceNote, bobNote } = await setup();
  expect(titlesOf(await admin.client.query<Page>('note.list'))?.sort()).toEqual(['alice’s', 'bob’s']);
  expect(titlesOf(await admin.client.query<Page>('note.list', { ownerId: bob.user.id }))).toEqual(['bob’s']);
  expect((await admin.client.query<Note>('note.get', { id: aliceNote.id })).status).toBe(200);
  const edited = await admin.client.mutate<Note>('note.update', { id: bobNote.id, body: 'moderated' });
  expect(edited.body.result?.data).toMatchObject({ ownerId: bob.user.id, body: 'moderated' });
  expect((await admin.client.mutate('note.delete', { id: aliceNote.id })).status).toBe(200);
});

test('a role change reaches the next request: a promoted user sees every note after one refresh', async () => {
  const { alice, admin } = await setup();
  expect(titlesOf(await alice.client.query<Page>('note.list'))).toEqual(['alice’s']);
  expect((await admin.client.mutate('admin.setRole', { userId: alice.user.id, role: 'admin' })).status).toBe(200);
  expect(errorOf(await alice.client.query('note.list'))).toEqual({ status: 401, authError: 'expired_token' });
  expect((await alice.client.mutate('auth.refresh')).status).toBe(200);
  expect(titlesOf(await alice.client.query<Page>('note.list'))?.sort()).toEqual(['alice’s', 'bob’s']);
});

test('pages newest first with a cursor, with no note twice or missed', async () => {
  const { alice, create } = await setup();
  for (let i = 0; i < 24; i++) await create(alice.client, `n${String(i).padStart(2, '0')}`);
  const seen: string[] = [];
  let cursor: string | null | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await alice.client.query<Page>('note.list', { limit: 10, ...(cursor ? { cursor } : {}) });
    expect(res.status).toBe(200);
    seen.push(...res.body.result!.data.notes.map((n) => n.title));
    cursor = res.body.result!.data.nextCursor;
    if (!cursor) break;
  }
  expect(seen).toHaveLength(25);
  expect(new Set(seen).size).toBe(25);
});

test.each([
  ['an empty title', 'note.create', { title: '   ' }, /Give the note a title/],
  ['a title over 200 characters', 'note.create', { title: 'x'.repeat(201) }, /at most 200/],
  ['a body over 5000 characters', 'note.create', { title: 't', body: 'x'.repeat(5001) }, /at most 5000/],
  ['a malformed id', 'note.delete', { id: '../etc' }, /Not a note id/],
])('bad input is a 400 that says what is wrong: %s', async (_, path, input, message) => {
  const { alice } = await setup();
  const res = await alice.client.mutate(path, input);
  expect(res.status).toBe(400);
  expect(res.body.error?.message).toMatch(message);
});

test('a bad cursor or limit is a 400; signed out is a 401', async () => {
  const { server, alice } = await setup();
  expect((await alice.client.query('note.list', { cursor: 'yesterday' })).status).toBe(400);
  expect((await alice.client.query('note.list', { limit: 1000 })).status).toBe(400);
  const anonymous = await fetch(`${server.url}/trpc/note.list`);
  expect(anonymous.status).toBe(401);
});

test('deleting an account deletes its notes', async () => {
  const { server, alice, aliceNote } = await setup();
  await alice.client.mutate('auth.reauthenticate', { password: (await import('../../helpers/users.ts')).PASSWORD });
  expect((await alice.client.mutate('account.delete')).status).toBe(200);
  expect((await server.db.select().from(server.db.tables.notes)).map((n) => n.id)).not.toContain(aliceNote.id);
});

test('a NUL character in a title or body is a 400 naming the field, on every engine', async () => {
  const { alice } = await setup();
  for (const input of [{ title: 'a\u0000b' }, { title: 'ok', body: 'x\u0000' }]) {
    const res = await alice.client.mutate('note.create', input);
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/cannot contain NUL characters/);
  }
});
