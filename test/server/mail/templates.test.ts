// The mail templates: every inserted value is escaped in the HTML part, every link is in
// both parts, and a link's lifetime comes from the mail's expiry.
import { expect, test } from 'vitest';
import { enqueueMail } from '../../../server/mail/outbox.ts';
import { APP_NAME, type MailData, type MailKind, renderMail } from '../../../server/mail/templates.ts';
import { openTestDatabase } from '../../helpers/database.ts';

const HOSTILE = `"><script>alert('x')</script>&`;
const hostileLink = `https://app.example/reset-password#token=${HOSTILE}`;

/** One example of each kind, every value hostile. */
const examples: { [K in MailKind]: MailData[K] } = {
  sign_up: { link: hostileLink },
  account_exists: { signInUrl: hostileLink, resetUrl: `${hostileLink}2` },
  password_reset: { link: hostileLink },
  password_reset_no_account: { signUpUrl: hostileLink },
  password_reset_disabled: {},
  email_change: { link: hostileLink, newEmail: `${HOSTILE}@example.com` },
  email_change_notice: { newEmail: `${HOSTILE}@example.com` },
  email_changed: {},
  account_deleted: {},
  second_factor_enabled: {},
  second_factor_disabled: { byAdmin: true },
  recovery_code_used: { remaining: 3 },
  recovery_codes_generated: {},
  second_factor_locked: {},
  passkey_added: { name: 'Phone' },
  passkey_removed: { name: 'Phone', lastFactor: true },
};
const kinds = Object.keys(examples) as MailKind[];
/** What a value must look like in HTML: the five characters that can break out, as entities. */
const escaped = (value: string) =>
  value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
const render = (kind: MailKind) => renderMail(kind, examples[kind] as never, { validFor: '1 hour' });

test.each(kinds)('%s: inserted values are escaped in the HTML part and kept as they are in the text', (kind) => {
  const mail = render(kind);
  expect(mail.html).not.toContain('<script>');
  expect(mail.html).not.toContain(`"><`);
  expect(mail.subject.startsWith(`${APP_NAME}: `)).toBe(true);
  // A flag chooses a sentence rather than being inserted.
  for (const value of Object.values(examples[kind]).filter((v) => typeof v !== 'boolean')) {
    expect(mail.text).toContain(String(value));
    expect(mail.html).toContain(escaped(String(value)));
  }
});

test.each(kinds)('%s: every link is in both the text and the HTML part, and the HTML is only paragraphs', (kind) => {
  const mail = render(kind);
  const links = Object.entries(examples[kind]).filter(([key]) => key === 'link' || key.endsWith('Url'));
  for (const [, link] of links) {
    expect(mail.text.split('\n')).toContain(link);
    expect(mail.html).toContain(`<a href="${escaped(link)}">`);
  }
  expect(mail.html.match(/<a /g)?.length ?? 0).toBe(links.length);
  expect(
    mail.html
      .trim()
      .split('\n')
      .every((line) => /^<p>.*<\/p>$/.test(line)),
  ).toBe(true);
  expect(mail.html).not.toMatch(/style=|<script|<img/);
});

test('a queued mail says how long its link works, from the expiry it is given', async () => {
  const db = await openTestDatabase();
  const { outbox } = db.tables;
  const now = new Date('2030-01-01T00:00:00Z');
  const queue = (kind: 'sign_up' | 'password_reset', seconds: number) =>
    enqueueMail(
      db,
      { kind, data: { link: 'https://app.example/x#token=t' }, to: 'a@example.com' },
      { now, expiresAt: new Date(now.getTime() + seconds * 1000) },
    );
  try {
    const ids = [
      await queue('sign_up', 86_400),
      await queue('password_reset', 3600),
      await queue('password_reset', 1800),
    ];
    const rows = await db.select({ id: outbox.id, text: outbox.text }).from(outbox);
    const texts = ids.map((id) => rows.find((row) => row.id === id)?.text);
    expect(texts[0]).toContain('for 24 hours');
    expect(texts[1]).toContain('for 1 hour.');
    expect(texts[2]).toContain('for 30 minutes');
  } finally {
    await db.close();
  }
});
