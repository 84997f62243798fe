// The embeddable loader: one self-contained classic script at a stable URL
// (/widget.js), no Lit, no shared chunks, appended to the apps' output folder.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

// Host pages may serve or declare another charset: keep the loader pure ASCII (the
// co-browsing recorder, vite.cobrowse.config.ts, too).
export function asciiOnly(): Plugin {
  return {
    name: "visavis-ascii-only",
    apply: "build",
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== "chunk") continue;
        chunk.code = chunk.code.replace(
          // eslint-disable-next-line no-control-regex -- every non-ASCII character, from U+0000 up
          /[^\x00-\x7f]/g,
          (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
        );
      }
    },
  };
}

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
      entry: resolve(here, "src/widget/widget.ts"),
      formats: ["iife"],
      name: "visavisWidget",
      fileName: () => "widget.js",
    },
  },
});
