// Vite for the SPA. In development it proxies /trpc to the API server, so the
// browser sees one origin (no CORS, and the auth cookies just work).
import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

export default defineConfig(({ mode }) => {
  // The API's PORT comes from the project's .env, like the server's.
  const { PORT = '' } = loadEnv(mode, '..', '');
  return {
    plugins: [react()],
    server: {
      // APP_ORIGIN defaults to http://localhost:5173: another port would be another origin.
      port: 5173,
      strictPort: true,
      proxy: { '/trpc': `http://127.0.0.1:${PORT || 3000}` },
    },
    build: { outDir: '../dist/public', emptyOutDir: true },
  };
});
