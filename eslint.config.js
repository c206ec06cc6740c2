import tseslint from 'typescript-eslint';

/**
 * TypeScript's recommended rules, plus the boundaries that keep one folder per area (README, Development):
 * - an area (src/modules/<area>/) reaches another area only through that area's index.ts;
 * - a contract.ts (the wire shapes) does not depend on Fastify;
 * - only repositories (and the database and queue machinery) use drizzle and the table objects; everything else
 *   may import their types.
 */

const throughIndex = (up) => ({
  regex: `^${up}[^./][^/]*/(?!index\\.js$)`,
  message: 'Import another area only through its index.js.',
});
const intoModules = {
  regex: '(^|/)modules/[^/]+/(?!index\\.js$)',
  message: 'Import an area only through its index.js.',
};
const noFastify = [
  { group: ['fastify', 'fastify-plugin', 'fastify-type-provider-zod', '@fastify/*'], message: 'A contract holds wire shapes only: no Fastify.' },
];

/** One no-restricted-imports setting per kind of file: a later match replaces an earlier one, it does not add to it. */
const boundaries = [
  { files: ['src/**/*.ts'], patterns: [intoModules] },
  { files: ['src/modules/*/*.ts'], patterns: [throughIndex('\\.\\./'), intoModules] },
  { files: ['src/modules/*/*/*.ts'], patterns: [throughIndex('\\.\\./\\.\\./'), intoModules] },
  { files: ['src/modules/*/contract.ts'], patterns: [throughIndex('\\.\\./'), intoModules, ...noFastify] },
];

export default tseslint.config(
  { ignores: ['dist/**', 'dist.*/**', 'node_modules/**', 'data/**', 'scratch/**', 'bench/results/**', 'src/browser/page-scripts/**'] },
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  // The player's in-page scripts are classic scripts sharing the page's global scope: window-switch.js declares what recording-player.js calls.
  { files: ['src/modules/sharing/page-scripts/*.js'], languageOptions: { sourceType: 'script' } },
  // Burrow's pages' one script (src/modules/web/assets/web.js) is a classic script too.
  { files: ['src/modules/web/assets/*.js'], languageOptions: { sourceType: 'script' } },
  // Tests and benchmarks read JSON bodies loosely; `any` stays out of src/.
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  ...boundaries.map(({ files, patterns }) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } })),
  {
    files: ['src/**/*.ts'],
    ignores: ['src/modules/**/*repository*.ts', 'src/db/**', 'src/jobs/queue.ts', 'src/storage/postgres-blob-store.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)db/schema/',
              allowTypeImports: true,
              message: 'Only repositories use table objects; import their types, or db/enums.js for value sets.',
            },
            { group: ['drizzle-orm', 'drizzle-orm/*'], allowTypeImports: true, message: 'SQL belongs in a repository.' },
          ],
        },
      ],
    },
  },
);
