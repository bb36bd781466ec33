// Lint = the determinism and layering rules of DESIGN.md §1–2, per folder, plus typescript-eslint's
// recommended set. tests/tidy/ greps the same rules again so an eslint-disable comment hides nothing.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Globals that make code nondeterministic or do I/O; the core gets them through ports. */
const ambientGlobals = [
  'Date', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval',
  'clearImmediate', 'queueMicrotask', 'process', 'performance', 'crypto', 'require', 'fetch',
  'Buffer', 'global', 'globalThis',
].map((name) => ({ name, message: `${name} is ambient state: take it through a port (DESIGN.md §2).` }));

const ambientProperties = [
  { object: 'Math', property: 'random', message: 'Randomness comes from the injected Rng port.' },
  { object: 'Date', property: 'now', message: 'Time comes from the injected Clock port.' },
];

const ioModules = ['node:*', 'fs', 'fs/*', 'net', 'os', 'path', 'child_process', 'worker_threads', 'crypto',
  '@grpc/*', 'level', 'classic-level', 'pino', 'pino-pretty', 'protobufjs', 'protobufjs/*', 'commander',
  'cli-progress'];

/** `no-restricted-imports` for a layer: I/O modules plus the layers it must not reach. */
function layer(forbiddenFolders, extraModules = ioModules) {
  return {
    'no-restricted-imports': ['error', {
      patterns: [
        ...(extraModules.length ? [{ group: extraModules, message: 'The core reaches the world only through ports (DESIGN.md §2).' }] : []),
        ...forbiddenFolders.map((folder) => ({
          group: [`**/${folder}/*`, `**/${folder}`],
          message: `This layer must not import ${folder}/ (DESIGN.md §1 dependency direction).`,
        })),
      ],
    }],
  };
}

const determinism = {
  'no-restricted-globals': ['error', ...ambientGlobals],
  'no-restricted-properties': ['error', ...ambientProperties],
  'no-restricted-syntax': ['error',
    { selector: 'FunctionDeclaration[async=true], ArrowFunctionExpression[async=true], FunctionExpression[async=true]', message: 'The core is synchronous: completions arrive as events (DESIGN.md §2).' },
    { selector: 'AwaitExpression', message: 'The core is synchronous: completions arrive as events (DESIGN.md §2).' },
    { selector: "Identifier[name='Promise']", message: 'The core is synchronous: completions arrive as events (DESIGN.md §2).' },
    { selector: 'TSEnumDeclaration', message: 'No enum: use `as const` objects and string-literal unions (STYLE.md §3).' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', '.keel/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always'],
    },
  },
  { files: ['raft/**/*.ts'], rules: { ...determinism, ...layer(['controller', 'broker', 'net', 'sim', 'scenarios', 'cli', 'tests', 'bench']) } },
  { files: ['controller/**/*.ts'], rules: { ...determinism, ...layer(['broker', 'net', 'sim', 'scenarios', 'cli', 'tests', 'bench']) } },
  { files: ['broker/**/*.ts'], rules: { ...determinism, ...layer(['net', 'sim', 'scenarios', 'cli', 'tests', 'bench']) } },
  {
    // The simulator is deterministic too, but it may read the wall clock (performance.now) to report wallMs.
    files: ['sim/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', ...ambientGlobals.filter((g) => g.name !== 'performance')],
      'no-restricted-properties': ['error', ...ambientProperties],
      'no-restricted-syntax': determinism['no-restricted-syntax'],
      ...layer(['net', 'cli', 'scenarios', 'tests', 'bench'], ['node:*', 'fs', 'net', '@grpc/*', 'level', 'classic-level', 'protobufjs', 'commander', 'cli-progress']),
    },
  },
  {
    files: ['scenarios/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error', ...ambientProperties],
      ...layer(['net', 'cli', 'tests', 'bench'], ['@grpc/*', 'level', 'classic-level', 'protobufjs']),
    },
  },
  { files: ['net/**/*.ts'], rules: layer(['sim', 'scenarios', 'cli', 'tests', 'bench'], []) },
  { files: ['bin/**/*.js', 'bin/**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  { files: ['tests/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
);
