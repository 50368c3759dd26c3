import { defineConfig } from "vitest/config";

// Unit tests of the islands' logic (terminal, live client, metric series) in a jsdom document.
export default defineConfig({
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/trial/test-setup.ts"],
    css: false,
  },
});
