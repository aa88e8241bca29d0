// Development only (App renders it under import.meta.env.DEV, so a build leaves it out):
// without SMTP_URL no mail leaves the machine; this says where to read it instead.
import { Link } from 'wouter';

export function DevBanner() {
  return (
    <aside className="dev-banner" aria-label="Development">
      Development: mail is not sent. Read it in the <Link href="/dev/mailbox">dev mailbox</Link> or the API's console.
    </aside>
  );
}
