import { defineConfig } from 'vitest/config';

// Real processes (Temporal dev server, worker, receiver) are started and killed here: one file at a time.
export default defineConfig({ test: { testTimeout: 300_000, hookTimeout: 120_000, fileParallelism: false } });
