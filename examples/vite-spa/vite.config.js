// A Vite + react-router app with browser-history routes, the shape of `npm create vite` plus react-router-dom.
// Served as plain files, /settings is a 404 on reload: the pattern reported in
// https://github.com/Dokploy/dokploy/issues/1650 (fixed there by nginx `try_files $uri $uri/ /index.html`).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  plugins: [react()],
});
