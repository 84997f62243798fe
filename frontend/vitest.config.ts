// Unit tests of the browser code that needs no browser: state machines, reducers,
// timers (with fake timers). Journeys run in real Chromium from pytest (tests/e2e).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
