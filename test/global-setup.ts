// Builds the app once per test run, exactly as `npm run build` ships it, for the tests of
// the built SPA and of the production server; no test rebuilds it. A failed build (a type
// error anywhere, say) fails only the files that need dist/, with the build's output.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why `npm run build` failed, or null when dist/ holds the current sources. */
    buildError: string | null;
  }
}

export function setup(project: TestProject) {
  try {
    execFileSync('npm', ['run', 'build'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      // Vitest sets NODE_ENV=test, and Vite would keep it and bundle React's development build.
      env: { ...process.env, NODE_ENV: 'production' },
    });
    project.provide('buildError', null);
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    project.provide('buildError', `npm run build failed:\n${stdout}${stderr}`);
  }
}
