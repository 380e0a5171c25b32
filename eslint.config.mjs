// Lint: TypeScript rules everywhere; workflows/ stays deterministic (no I/O, no Node built-ins), as
// Temporal's own samples enforce; and dependencies run one way, to the ground:
//   src/zumik.ts, src/main.ts → src/server → workflows, activities → providers, store, streaming, secrets,
//   temporal → src/domain → src/contract (zod only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util',
  'v8', 'vm', 'worker_threads', 'zlib'];

const deterministic = [
  ...nodeBuiltins.map((name) => ({ name, message: 'workflows and domain code must be deterministic: no Node built-ins' })),
  ...nodeBuiltins.map((name) => ({ name: `node:${name}`, message: 'workflows and domain code must be deterministic: no Node built-ins' })),
  ...['pg', 'undici', 'express', 'pino', 'ioredis', 'nats', '@temporalio/client', '@temporalio/worker', '@temporalio/activity']
    .map((name) => ({ name, message: 'workflows and domain code must not do I/O' })),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.zumik/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
      clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly',
      AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', fetch: 'readonly', structuredClone: 'readonly',
      __dirname: 'readonly', require: 'readonly', module: 'writable', setImmediate: 'readonly', queueMicrotask: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: deterministic, patterns: [
      { group: ['**/providers/**', '**/store/**', '**/server/**', '../activities/*', '**/activities/index'],
        message: 'workflows import activity types only (import type), never I/O modules', allowTypeImports: true },
    ] }] },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: deterministic, patterns: [
      { group: ['../*', '!../contract', '!../contract/*'], message: 'src/domain imports only src/contract (dependencies run one way, to the ground)' },
    ] }] },
  },
  {
    files: ['src/contract/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      { regex: '^(?!zod$|\\./)', message: 'src/contract is the ground floor: it imports zod and its own files only' },
    ] }] },
  },
  {
    files: ['src/providers/**/*.ts', 'src/store/**/*.ts', 'src/streaming/**/*.ts', 'src/secrets/**/*.ts', 'src/temporal/**/*.ts', 'src/metrics/**/*.ts', 'src/demo/**/*.ts', 'src/process/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      { group: ['**/server/**', '**/server', '**/activities/**', '**/activities', '**/workflows/**', '**/workflows'],
        message: 'providers, store, streaming, secrets and temporal sit below the server, activities and workflows' },
    ] }] },
  },
  {
    files: ['src/providers/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      { group: ['**/server/**', '**/activities/**', '**/workflows/**', '**/store/**', '**/secrets/**'],
        message: 'providers reach no store or secrets: activities resolve credentials and hand them to adapters' },
    ] }] },
  },
  {
    files: ['activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      { group: ['**/server/**', '**/server', '../workflows/**', '../workflows'], message: 'activities sit below the server and beside workflows' },
    ] }] },
  },
  {
    files: ['src/server/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [
      { group: ['**/activities/**', '**/activities', '**/providers/**', '**/workflows/**', '**/workflows'],
        message: 'the server reaches work through Temporal and the store, never activities, providers or workflow code' },
    ] }] },
  },
);
