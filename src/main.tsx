import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import { consumeLaunchQueue } from "./app/launch";
import { useApp } from "./app/store/store";
import "./app/styles.css";

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

// A .vhdx or .avhdx opened with the installed app (the manifest's file_handlers) opens in the editor.
consumeLaunchQueue((handle, name) => void useApp.getState().openSource(handle, name));

// Offline use: the service worker caches the app shell (public/sw.js). Only in builds, so the
// development server's modules are never served stale.
if (import.meta.env.PROD && "serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    void navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch(() => undefined);
  });
}
