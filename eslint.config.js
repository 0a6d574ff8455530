// Type-aware lint (typescript-eslint): promises that are neither awaited nor handled, promises
// where a callback's result is ignored, awaits of non-promises, non-exhaustive switches, unused code,
// assertions that change nothing, `any`.
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "generated/**",
      "**/node_modules/**",
      ".lgts/**",
      "dist/**",
      "coverage/**",
      "reports/**",
      ".stryker-tmp*/**",
      // browser code (React pages, generative-UI components): bundled and checked by esbuild, outside tsconfig;
      // the console's is typed by a project of its own (src/console/app/tsconfig.json) and linted
      "**/*.tsx",
      "!src/console/app/**/*.tsx",
    ],
  },
  {
    files: ["**/*.ts", "**/*.tsx", "**/*.mts"],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["vitest.config.ts"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
      ],
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
);
