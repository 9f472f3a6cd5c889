import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/**
 * The development server injects an inline script (React Refresh), inline styles (CSS hot
 * reload) and talks to its WebSocket; the built app needs none of that. Loosen the CSP for
 * `vite` (serve) only; `vite build` ships index.html's policy unchanged.
 */
function devCsp(): Plugin {
  return {
    name: "vhdx-dev-csp",
    apply: "serve",
    transformIndexHtml(html) {
      return html
        .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace("connect-src 'self'", "connect-src 'self' ws: wss:");
    },
  };
}

export default defineConfig(({ mode }) => ({
  plugins: [react(), devCsp()],
  base: "./",
  worker: { format: "es" },
  build: {
    target: "es2022",
    // The web app's own folder: the build empties it, and dist/cli (the `vhdx` command) and
    // dist/lib (the engine as a library) stay.
    outDir: mode === "e2e" ? "dist/e2e" : "dist/web",
    sourcemap: false,
    // One budget for the whole app (250 KB gzipped); warn early when a chunk grows.
    chunkSizeWarningLimit: 600,
    // The end-to-end tests' build also carries their harness page (e2e/harness.html).
    ...(mode === "e2e" ? { rollupOptions: { input: { main: "index.html", harness: "e2e/harness.html" } } } : {}),
  },
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
}));
