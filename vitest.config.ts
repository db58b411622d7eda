import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// Tests import workspace packages from source, so `vitest` needs no build step.
const pkgs = [
  'core',
  'keyring-local',
  'keyring-kms',
  'keyring-multi-region',
  'keyring-hierarchical',
  'caching',
  'config',
  'keyring-env',
  'kms-local',
  'cli',
];
const alias = pkgs.map((p) => ({
  find: new RegExp(`^@envelope/${p}$`),
  replacement: fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url)),
}));

export default defineConfig({
  resolve: { alias },
  test: {
    pool: 'forks',
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      ...pkgs.map((p) => ({
        extends: true as const,
        test: { name: p, include: [`packages/${p}/test/**/*.test.ts`] },
      })),
      { extends: true as const, test: { name: 'root', include: ['test/**/*.test.ts'] } },
    ],
  },
});
