import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Every session writes a transcript: tests (and the CLIs they start) keep theirs out of the machine's state dir.
    env: { RESET_DOCTOR_STATE_DIR: process.env.RESET_DOCTOR_STATE_DIR ?? join(tmpdir(), `reset-doctor-test-state-${process.getuid?.() ?? 0}`) },
  },
});
