// Two real server processes on one database: the sign-in limit is one budget for both
// (PostgreSQL), and killing one mid-load costs the other nothing, nor any write either
// acknowledged.
import { eq, inArray } from 'drizzle-orm';
import { afterEach, expect, test } from 'vitest';
import { RATE_LIMITS } from '../../server/auth/rate-limits.ts';
import { createClient, randomIp } from '../helpers/client.ts';
import { PASSWORD } from '../helpers/users.ts';
import { type Instances, ORIGIN, SHARED_ENGINE, startInstances } from './instances.ts';

let instances: Instances | undefined;
afterEach(async () => {
  await instances?.stop();
  instances = undefined;
});

test.skipIf(SHARED_ENGINE !== 'postgres')(
  'the wrong-password limit is one budget across instances, not one per instance (PostgreSQL; SQLite counts per process)',
  { timeout: 60_000 },
  async () => {
    instances = await startInstances(2);
    const email = 'limited@example.com';
    await instances.addUsers([email]);
    const ip = randomIp();
    const [a, b] = instances.urls.map((url) => createClient(url, ORIGIN, undefined, ip));
    const allowed = RATE_LIMITS.passwordPerIpAndAccount.points;
    const statuses: number[] = [];
    // Alternating instances: with one budget each, twice as many guesses would get through.
    for (let i = 0; i < allowed + 2; i++) {
      const client = i % 2 ? b! : a!;
      statuses.push((await client.mutate('auth.login', { email, password: `guess ${i}` })).status);
    }
    expect(statuses.slice(0, allowed)).toEqual(Array(allowed).fill(401));
    expect(statuses.slice(allowed)).toEqual([429, 429]);
    // The owner from another address is not locked out by it (decision 008).
    const owner = createClient(instances.urls[1]!, ORIGIN);
    expect((await owner.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
  },
);

test(`killing one instance mid-load loses nothing on the other (${SHARED_ENGINE})`, { timeout: 90_000 }, async () => {
  instances = await startInstances(2);
  const emails = Array.from({ length: 20 }, (_, i) => `load-${i}@example.com`);
  await instances.addUsers(emails);
  const [urlA, urlB] = instances.urls as [string, string];
  // Half the devices signed in on A, half on B; every one keeps working on B after A dies.
  const devices = await Promise.all(
    emails.map(async (email, i) => {
      const ip = randomIp();
      const home = createClient(i % 2 ? urlB : urlA, ORIGIN, undefined, ip);
      expect((await home.mutate('auth.login', { email, password: PASSWORD })).status).toBe(200);
      const onB = createClient(urlB, ORIGIN, undefined, ip);
      for (const name of ['__Host-access_token', '__Secure-refresh_token']) {
        onB.setCookie(name, home.cookie(name)!, name.startsWith('__Secure') ? '/trpc/auth.refresh' : '/');
      }
      return { home, onB, isOnA: i % 2 === 0 };
    }),
  );

  const acknowledged: string[] = [];
  const failuresOnB: string[] = [];
  let killed = false;
  const load = devices.map(async (device, i) => {
    for (let round = 0; round < 15; round++) {
      const client = device.isOnA && !killed ? device.home : device.onB;
      const onB = client === device.onB;
      const res = await client
        .mutate<{ id: string }>('note.create', { title: `note ${i}.${round}` })
        .catch((error: Error) => ({ status: 0, body: { error: { message: error.message } } }) as const);
      if (res.status === 200 && 'result' in res.body) acknowledged.push(res.body.result!.data.id);
      else if (onB) failuresOnB.push(`${res.status} ${JSON.stringify(res.body)}`);
      // A request to A may fail once A is gone: the client tries B next, as a proxy would.
      if (round === 5 && i === 0) {
        instances!.servers[0]!.child.kill('SIGKILL');
        killed = true;
      }
    }
  });
  await Promise.all(load);
  expect(killed).toBe(true);
  expect(failuresOnB).toEqual([]);

  // Every device signed in on A still refreshes on B, and every acknowledged note is stored.
  for (const device of devices) expect((await device.onB.mutate('auth.refresh')).status).toBe(200);
  const db = await instances.open();
  try {
    const { notes } = db.tables;
    const stored = await db.select({ id: notes.id }).from(notes).where(inArray(notes.id, acknowledged));
    expect(stored.length).toBe(acknowledged.length);
    expect(acknowledged.length).toBeGreaterThan(devices.length * 10);
    const [anyOnA] = await db.select({ id: notes.id }).from(notes).where(eq(notes.title, 'note 0.0'));
    expect(anyOnA, 'a note written through A before it died').toBeDefined();
  } finally {
    await db.close();
  }
});
