import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

/**
 * The dashboard is served by the API process under /app/ (src/web/app.ts). No React plugin: Vite
 * compiles JSX itself with the automatic runtime; Fast Refresh is not needed for a build-only setup.
 * `npm run dev:web` proxies /api to a running `npm start` for working on the pages.
 */
export default defineConfig({
  root,
  base: '/app/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    // One chunk per page would be nicer for first paint; the whole app is a few hundred KB gzipped
    // and served from the same host, so the simpler single bundle is kept until it matters.
    chunkSizeWarningLimit: 2000,
    sourcemap: true,
    rolldownOptions: {
      // Mantine marks its modules "use client" for React Server Components; meaningless in an SPA bundle.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
  server: {
    proxy: { '/api': `http://127.0.0.1:${process.env.PORT ?? 3000}` },
  },
});
