// No lost mail across a crash: the real server (spawned) holds a queued mail it cannot send
// (SMTP is down), is killed with SIGKILL, and after a restart with SMTP back the mail is
// delivered, exactly once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';
import { openDatabase } from '../../../db/client.ts';
import { enqueueMail } from '../../../server/mail/outbox.ts';
import { randomSecret } from '../../helpers/config.ts';
import { TEST_ENGINE, createPostgresDatabase } from '../../helpers/database.ts';
import { startSmtpServer } from '../../helpers/mail.ts';
import { freePort, spawnScript } from '../../helpers/server.ts';

const TOKEN = 'restart-token-that-must-not-be-logged';

// The server runs in another process, which PGlite (in-process only) cannot share a database with.
test.skipIf(TEST_ENGINE === 'pglite')(
  'a mail queued when the process is killed -9 goes out after the restart, exactly once',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-restart-'));
    // The server's database, which this test opens too: a SQLite file in `dir`, or a fresh PostgreSQL database.
    const postgres = TEST_ENGINE === 'postgres' ? await createPostgresDatabase() : undefined;
    const databaseUrl = postgres?.url ?? join(dir, 'app.db');
    const smtpPort = await freePort(); // nothing listens there yet
    writeFileSync(
      join(dir, '.env'),
      [
        'NODE_ENV=test',
        `JWT_SECRET=${randomSecret()}`,
        `ENCRYPTION_KEY=${randomSecret()}`,
        `DATABASE_URL=${databaseUrl}`,
        'ARGON2_MEMORY_KIB=1024',
        'ARGON2_TIME_COST=1',
        `SMTP_URL=smtp://127.0.0.1:${smtpPort}`,
        'MAIL_FROM="Starter <no-reply@app.example>"',
      ].join('\n'),
    );
    const start = () => spawnScript('server/main.ts', dir, { PORT: '0' });

    const first = start();
    expect(await first.url, first.output()).not.toBeNull();
    // What a request does (in its transaction): queue the mail in the server's database.
    const db = await openDatabase(databaseUrl);
    await db.migrate();
    const now = new Date();
    await enqueueMail(
      db,
      {
        kind: 'password_reset',
        data: { link: `http://localhost:5173/reset-password#token=${TOKEN}` },
        to: 'ada@example.com',
      },
      { now, expiresAt: new Date(now.getTime() + 3600_000) },
    );
    const rows = () => db.select().from(db.tables.outbox);
    // The server's worker found it and failed to send it: SMTP is down.
    await vi.waitFor(async () => expect(await rows()).toMatchObject([{ attempts: 1, lastError: expect.any(String) }]), {
      timeout: 15_000,
      interval: 100,
    });
    first.child.kill('SIGKILL');
    expect(await first.exitCode).toBeNull();
    expect(await rows()).toHaveLength(1);

    const smtp = await startSmtpServer(smtpPort);
    const second = start();
    try {
      expect(await second.url, second.output()).not.toBeNull();
      await vi.waitFor(() => expect(smtp.received).toHaveLength(1), { timeout: 20_000, interval: 100 });
      expect(smtp.received[0]!.text).toContain(TOKEN);
      await vi.waitFor(async () => expect(await rows()).toEqual([]));
      second.child.kill('SIGTERM');
      expect(await second.exitCode).toBe(0);
      expect(smtp.received).toHaveLength(1);
      expect(first.output() + second.output()).not.toContain(TOKEN);
    } finally {
      second.child.kill('SIGKILL');
      await db.close();
      await postgres?.drop();
      await smtp.close();
    }
  },
);
