// ESLint (flat config): the recommended rules plus typescript-eslint's type-aware
// ones; formatting is Prettier's job, so its conflicting rules are off.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "src/lib/protocol.gen.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.json", "./tsconfig.node.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Lit calls event listeners bound in templates (@click=${this.onClick}) with
      // the component as `this`, so passing a method unbound is how Lit is written.
      "@typescript-eslint/unbound-method": "off",
    },
  },
  { files: ["*.js"], ...tseslint.configs.disableTypeChecked },
  prettier,
);
