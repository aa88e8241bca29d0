// No lost mail across a crash: the real server (spawned) holds a queued mail it cannot send
// (SMTP is down), is killed with SIGKILL, and after a restart with SMTP back the mail is
// delivered, exactly once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';
import { openDatabase } from '../../../db/client.ts';
import { migrateDatabase } from '../../../db/migrate.ts';
import { outbox } from '../../../db/schema.ts';
import { enqueueMail } from '../../../server/mail/outbox.ts';
import { randomSecret } from '../../helpers/config.ts';
import { startSmtpServer } from '../../helpers/mail.ts';
import { freePort, spawnScript } from '../../helpers/server.ts';

const TOKEN = 'restart-token-that-must-not-be-logged';

test(
  'a mail queued when the process is killed -9 goes out after the restart, exactly once',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mail-restart-'));
    const smtpPort = await freePort(); // nothing listens there yet
    writeFileSync(
      join(dir, '.env'),
      [
        'NODE_ENV=test',
        `JWT_SECRET=${randomSecret()}`,
        'DATABASE_URL=app.db',
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
    const db = openDatabase(join(dir, 'app.db'));
    migrateDatabase(db);
    const now = new Date();
    enqueueMail(
      db,
      {
        kind: 'password_reset',
        data: { link: `http://localhost:5173/reset-password#token=${TOKEN}` },
        to: 'ada@example.com',
      },
      { now, expiresAt: new Date(now.getTime() + 3600_000) },
    );
    const rows = () => db.select().from(outbox).all();
    // The server's worker found it and failed to send it: SMTP is down.
    await vi.waitFor(() => expect(rows()).toMatchObject([{ attempts: 1, lastError: expect.any(String) }]), {
      timeout: 15_000,
      interval: 100,
    });
    first.child.kill('SIGKILL');
    expect(await first.exitCode).toBeNull();
    expect(rows()).toHaveLength(1);

    const smtp = await startSmtpServer(smtpPort);
    const second = start();
    try {
      expect(await second.url, second.output()).not.toBeNull();
      await vi.waitFor(() => expect(smtp.received).toHaveLength(1), { timeout: 20_000, interval: 100 });
      expect(smtp.received[0]!.text).toContain(TOKEN);
      await vi.waitFor(() => expect(rows()).toEqual([]));
      second.child.kill('SIGTERM');
      expect(await second.exitCode).toBe(0);
      expect(smtp.received).toHaveLength(1);
      expect(first.output() + second.output()).not.toContain(TOKEN);
    } finally {
      second.child.kill('SIGKILL');
      db.$client.close();
      await smtp.close();
    }
  },
);
