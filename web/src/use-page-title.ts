// Each page's title in the tab and the history: "Notes · App name". The name is the
// server's (server/app-name.ts), so mails, authenticator apps and tabs agree.
import { useEffect } from 'react';
import { APP_NAME } from '../../server/app-name.ts';

export { APP_NAME };

export function usePageTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · ${APP_NAME}`;
  }, [title]);
}
