// Development only: the mails the API would have sent (dev.mailbox), newest first, with
// their links clickable. App loads this page only under import.meta.env.DEV, so a
// production build contains none of it (and the server answers dev.mailbox 404 there).
import { useQuery } from '@tanstack/react-query';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

const URL_PATTERN = /(https?:\/\/[^\s<>"]+)/;

/** The text with every URL as a link; split() with a capture group puts URLs at odd indexes. */
const withLinks = (text: string) =>
  text.split(URL_PATTERN).map((part, index) =>
    index % 2 === 1 ? (
      <a key={index} href={part}>
        {part}
      </a>
    ) : (
      part
    ),
  );

export function DevMailboxPage() {
  usePageTitle('Dev mailbox');
  // Polls, so a mail shows up while this page is open in another tab.
  const mails = useQuery({ ...trpc.dev.mailbox.queryOptions(), refetchInterval: 2_000 });
  return (
    <main>
      <h1>Dev mailbox</h1>
      <p>The newest 50 mails the API sent in development. Nothing here left the machine.</p>
      {mails.isError && (
        <p className="error" role="alert">
          Could not load the mailbox: {mails.error.message}
        </p>
      )}
      {mails.data?.length === 0 && <p>No mail yet. Create an account or ask for a password reset.</p>}
      <ol className="mailbox">
        {mails.data?.map((mail) => (
          <li key={mail.id}>
            <article aria-labelledby={`mail-${mail.id}`}>
              <h2 id={`mail-${mail.id}`}>{mail.subject}</h2>
              <p className="meta">
                To <strong>{mail.to}</strong> ·{' '}
                <time dateTime={String(mail.sentAt)}>{new Date(mail.sentAt).toLocaleString()}</time>
              </p>
              <pre>{withLinks(mail.text)}</pre>
            </article>
          </li>
        ))}
      </ol>
    </main>
  );
}
