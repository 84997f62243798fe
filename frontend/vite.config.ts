// Builds the two Lit apps (customer chat, adviser console) as a multi-page app into
// the Python package's static folder, and copies the demo shop page next to them.
// The widget loader has its own config (vite.widget.config.ts): it must keep a
// stable file name and must not share chunks with the apps.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const OUT_DIR = resolve(here, "../src/visavis/static/app");
// The server mounts the package's static folder at /static, so the hashed assets
// are at /static/app/assets/…; the HTML pages themselves are served at /chat,
// /console and /demo, which is why the base must be absolute.
const BASE = "/static/app/";

function demoPage(): Plugin {
  return {
    name: "visavis-demo-page",
    apply: "build",
    generateBundle() {
      // A plain page with a classic <script async> tag: Vite must not bundle it,
      // it is what a customer's web developer would paste into their own site.
      for (const [src, dest] of [
        ["demo/index.html", "demo.html"],
        ["demo/konto.html", "demo-konto.html"],
        ["demo/demo.css", "demo.css"],
      ] as const) {
        this.emitFile({ type: "asset", fileName: dest, source: readFileSync(resolve(here, src)) });
      }
    },
  };
}

export default defineConfig({
  base: BASE,
  plugins: [demoPage()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    rolldownOptions: {
      input: {
        chat: resolve(here, "chat.html"),
        console: resolve(here, "console.html"),
        // The small public pages: phone code, adviser portal, appointments.
        code: resolve(here, "code.html"),
        advisers: resolve(here, "advisers.html"),
        book: resolve(here, "book.html"),
      },
      output: {
        // Lit and src/lib, used by both apps, in one cacheable chunk named for what it is.
        codeSplitting: {
          // The call code (src/lib/call*.ts but call-strings, and src/lib/call/) stays
          // out: it is its own chunk, loaded only once a conversation is active
          // (calls-lazy.ts). So does the co-browsing replayer (rrweb and its parts):
          // the console loads it with the co-browsing view (cobrowse-glue.ts).
          groups: [
            // The conversation model (its own code only, not the shared code it uses):
            // the console's, and the customer's from the first conversation on (the
            // start form does without it).
            {
              name: "model",
              test: /[\\/]src[\\/]lib[\\/]model[\\/]/,
              includeDependenciesRecursively: false,
            },
            // What a running conversation shows (the customer's start form does
            // without it; customer/conversation-view.ts loads it with the model).
            {
              name: "conversation",
              test: /[\\/]src[\\/]lib[\\/](?:messages|composer|conn-status)\.ts$/,
              includeDependenciesRecursively: false,
            },
            // lib/room-lazy.ts neither: only the lazy parts of the apps load the room.
            {
              name: "shared",
              test: /node_modules[\\/](?!@rrweb|rrweb|rrdom|rrweb-snapshot|@xstate|mitt|base64-arraybuffer|postcss)|[\\/]src[\\/]lib[\\/](?!call(?:[\\/]|(?:-view|-view-styles|-ui)?\.ts$)|room-lazy\.ts$)/,
            },
          ],
        },
      },
    },
  },
});
