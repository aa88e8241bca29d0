// `npm run bench` in its tiny mode, so the script cannot rot. Checks the shape of what
// it prints and writes, never the timings (those belong to `npm run bench -- --check`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT, spawnScript } from '../helpers/server.ts';

test('the benchmark runs end to end and reports every figure', { timeout: 120_000 }, async () => {
  if (!existsSync(join(ROOT, 'dist/server/main.js')) || !existsSync(join(ROOT, 'dist/public/index.html'))) {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  }
  const json = join(mkdtempSync(join(tmpdir(), 'bench-')), 'results.json');
  const run = spawnScript('scripts/bench.ts', ROOT, {}, ['--quick', '--json', json]);
  expect(await run.exitCode, run.output()).toBe(0);

  const output = run.output();
  expect(output).toMatch(/^Machine: \d+ cores .*Node v\d+/m);
  for (const figure of ['protected / public', 'during the login flood', 'refresh rotations/s, HTTP', 'in-process', 'cold start', 'SPA JavaScript']) {
    expect(output).toContain(figure);
  }
  const results = JSON.parse(readFileSync(json, 'utf8')) as { results: Record<string, number>; missed: string[] };
  for (const key of [
    'protectedToPublicRatio',
    'floodProtectedP50Ms',
    'floodProtectedP99Ms',
    'floodLoginsPerSecond',
    'loginP50Ms',
    'refreshRotationsPerSecondHttp',
    'refreshRotationsPerSecondInProcess',
    'coldStartMs',
    'spaJsGzipKb',
  ]) {
    expect(Number.isFinite(results.results[key]), key).toBe(true);
  }
  expect(Array.isArray(results.missed)).toBe(true);
});
