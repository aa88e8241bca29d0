// Vite for the SPA. In development it proxies /trpc to the API server, so the
// browser sees one origin (no CORS, and the auth cookies just work).
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';
import { APP_NAME } from '../server/app-name.ts';

export default defineConfig(({ mode }) => {
  // PORT (the API) and WEB_PORT (this server) come from the environment or the project's
  // .env, as the API reads them; APP_ORIGIN's default follows WEB_PORT.
  const { PORT = '', WEB_PORT = '' } = loadEnv(mode, fileURLToPath(new URL('..', import.meta.url)), '');
  return {
    plugins: [
      react(),
      // The first <title>, before the app sets each page's (use-page-title.ts).
      { name: 'app-name', transformIndexHtml: (html) => html.replace('%APP_NAME%', APP_NAME) },
    ],
    server: {
      port: Number(WEB_PORT || 5173),
      // Another port would be another origin than APP_ORIGIN: stop instead (and `npm run dev` with it).
      strictPort: true,
      proxy: { '/trpc': `http://127.0.0.1:${PORT || 3000}` },
    },
    build: { outDir: '../dist/public', emptyOutDir: true },
  };
});
