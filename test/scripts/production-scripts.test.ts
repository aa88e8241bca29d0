// The scripts that run against the built production server (`npm run bench`, `npm run
// load`), in their quick modes, so they cannot rot. They check the shape of what the
// scripts report, never timings (those belong to `npm run bench -- --check`).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject, test } from 'vitest';
import { ROOT, spawnScript } from '../helpers/server.ts';

// test/global-setup.ts built dist/; if that failed, so does this file, with the build's output.
const buildError = inject('buildError');
if (buildError) throw new Error(buildError);

test('the benchmark runs end to end and reports every figure', { timeout: 120_000 }, async () => {
  const json = join(mkdtempSync(join(tmpdir(), 'bench-')), 'results.json');
  const run = spawnScript('scripts/bench.ts', ROOT, {}, ['--quick', '--json', json]);
  expect(await run.exitCode, run.output()).toBe(0);

  const output = run.output();
  expect(output).toMatch(/^Machine: \d+ cores .*Node v\d+/m);
  for (const figure of [
    'protected / public',
    'during the login flood',
    'refresh rotations/s, HTTP',
    'in-process',
    'cold start',
    'request latency p50, ms, with a slow SMTP server',
    'SPA JavaScript',
  ]) {
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
    'slowSmtpRegisterP50Ms',
    'slowSmtpResetP50Ms',
    'slowSmtpMailRequestP50Ms',
    'slowSmtpRegisterP99Ms',
    'slowSmtpResetP99Ms',
    'spaJsGzipKb',
  ]) {
    expect(Number.isFinite(results.results[key]), key).toBe(true);
  }
  expect(Array.isArray(results.missed)).toBe(true);
});

test('the load-and-crash script passes its checks on small numbers', { timeout: 120_000 }, async () => {
  const run = spawnScript('scripts/load-and-crash.ts', ROOT, {}, ['--quick']);
  expect(await run.exitCode, run.output()).toBe(0);
  const output = run.output();
  expect(output).toMatch(/^ok +\d+ requests in 2 s, no errors/m);
  expect(output).toMatch(/^ok +after kill -9 mid-load .*PRAGMA integrity_check/m);
  expect(output).toMatch(/^ok +sessions revoked before the crash stay revoked/m);
  expect(output).toMatch(/^ok +distinct-key flood: .* heap after GC .* limiter keys \(cap 200\)/m);
  // Two seconds say nothing about a leak: the quick mode says it did not judge memory.
  expect(output).toMatch(/^memory check not run \(--quick\): heap after GC [\d.]+ MB → [\d.]+ MB → [\d.]+ MB/m);
  expect(output).toMatch(/^7 passed, 0 failed$/m);
});
