// The co-browsing recorder for the host page (src/cobrowse/host.ts): one self-contained
// classic script at a stable URL (/cobrowse.js), built like the loader. The loader adds
// it with a plain <script src> only after the customer consented: a cross-origin
// dynamic import() would need CORS on every chunk, and a host page's CSP that allows
// our widget.js allows this file from the same origin too.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { asciiOnly } from "./vite.widget.config.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const OUT_DIR = resolve(here, "../src/visavis/static/app"); // as in vite.config.ts

export default defineConfig({
  plugins: [asciiOnly()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: false,
    target: "es2020",
    copyPublicDir: false,
    reportCompressedSize: true,
    lib: {
      entry: resolve(here, "src/cobrowse/host.ts"),
      formats: ["iife"],
      name: "visavisCobrowse",
      fileName: () => "cobrowse.js",
    },
  },
});
