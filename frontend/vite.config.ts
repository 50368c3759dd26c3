import { defineConfig } from "vite";

// One entry per island, each src/<name>/main.ts, built to one ES module each with no hash in its name:
// Django's staticfiles serves dist/ and the templates name
// /static/frontend/app.js directly.
export default defineConfig({
  publicDir: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      input: { app: "src/app/main.ts", trial: "src/trial/main.ts", teach: "src/teach/main.ts" },
      output: {
        format: "es",
        entryFileNames: "frontend/[name].js",
        chunkFileNames: "frontend/[name].js",
        assetFileNames: "frontend/[name][extname]",
      },
    },
  },
});
