import { defineConfig } from 'vite';

/** Paths the API (and Socket.IO, Swagger) answer: the dev server forwards them to the Nest app. */
const API_PATHS = [
  '/users',
  '/auth',
  '/wallets',
  '/deposits',
  '/networks',
  '/alerts',
  '/prices',
  '/health',
  '/docs',
];
const target = process.env.API_URL ?? 'http://127.0.0.1:3000';

// The app is built into web/dist, which the Nest app serves at / and /app/* (src/web/web-app.ts).
export default defineConfig({
  root: import.meta.dirname,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 450,
    rollupOptions: {
      // TanStack Query marks its modules "use client" (for React Server Components): meaningless here.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  oxc: { jsx: { runtime: 'automatic' } },
  server: {
    port: 5173,
    proxy: {
      ...Object.fromEntries(API_PATHS.map((path) => [path, { target }])),
      '/ws': { target, ws: true },
    },
  },
});
