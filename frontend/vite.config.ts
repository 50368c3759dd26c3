import { defineConfig } from "vite";

// One ES module, no hash in its name: Django's staticfiles serves dist/ and the templates name
// /static/frontend/app.js directly.
export default defineConfig({
  publicDir: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      input: { app: "src/app.ts", trial: "src/trial.ts", teach: "src/teach/main.ts" },
      output: {
        format: "es",
        entryFileNames: "frontend/[name].js",
        chunkFileNames: "frontend/[name].js",
        assetFileNames: "frontend/[name][extname]",
      },
    },
  },
});
