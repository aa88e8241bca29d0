// `npm run check:hygiene [-- --repo DIR]`: fails when git tracks a .env file or anything
// that looks like a real secret, and when a production dependency has a high or critical
// advisory. CI runs it; run it before you push. Each check reports passed, failed or
// skipped (with why); with CI set, a skipped check fails the run, unless it was skipped on
// purpose (--skip-audit) or the registry has no advisory endpoint (a mirror: 404 or 405).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    repo: { type: 'string', default: '.' },
    'skip-audit': { type: 'boolean', default: false },
  },
});

const SECRET_PATTERNS: [string, RegExp][] = [
  ['a JWT signing key', /JWT_SECRET(?:_PREVIOUS)?\s*[=:]\s*['"]?[A-Za-z0-9_-]{32,}/],
  ['a JSON Web Token', /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/],
  ['a private key', /-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/],
  ['an AWS access key', /\bAKIA[0-9A-Z]{16}\b/],
];
const SKIPPED = /(^|\/)(package-lock\.json|.*\.(png|ico|woff2?))$/;

const problems: string[] = [];
/** What each check did, for the summary; `mustRun`: a skip fails the run in CI. */
const results: { name: string; outcome: string; skipped: boolean; mustRun: boolean }[] = [];
// A fresh degit copy has no repository yet: nothing is tracked, so there is nothing to check.
const isRepository = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: args.repo }).status === 0;
const files = isRepository
  ? execFileSync('git', ['ls-files', '-z'], { cwd: args.repo, encoding: 'utf8' }).split('\0').filter(Boolean)
  : [];

for (const file of files) {
  if (/(^|\/)\.env(\..+)?$/.test(file) && !file.endsWith('.env.example')) {
    problems.push(`${file}: an environment file is tracked by git (git rm --cached it; .gitignore covers it)`);
    continue;
  }
  if (SKIPPED.test(file)) continue;
  // Deleted in the working tree, not yet committed: nothing left here to leak.
  if (!existsSync(join(args.repo, file))) continue;
  const text = readFileSync(join(args.repo, file), 'utf8');
  text.split('\n').forEach((line, index) => {
    for (const [what, pattern] of SECRET_PATTERNS) {
      if (pattern.test(line)) problems.push(`${file}:${index + 1}: looks like ${what}`);
    }
  });
}
const trackedProblems = problems.length;
results.push(
  isRepository
    ? {
        name: 'tracked files',
        outcome: trackedProblems ? `failed (${trackedProblems} problem(s))` : `passed (${files.length} files)`,
        skipped: false,
        mustRun: true,
      }
    : { name: 'tracked files', outcome: 'skipped: not a git repository', skipped: true, mustRun: true },
);

if (args['skip-audit']) {
  results.push({ name: 'npm audit', outcome: 'skipped: --skip-audit', skipped: true, mustRun: false });
} else {
  const audit = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: args.repo, encoding: 'utf8' });
  const report = (() => {
    try {
      return JSON.parse(audit.stdout) as { metadata?: { vulnerabilities?: Record<string, number> }; message?: string };
    } catch {
      return {};
    }
  })();
  const counts = report.metadata?.vulnerabilities;
  if (counts) {
    const serious = (counts.high ?? 0) + (counts.critical ?? 0);
    if (serious > 0) {
      problems.push(`npm audit --omit=dev: ${counts.high ?? 0} high and ${counts.critical ?? 0} critical advisories`);
    }
    const outcome = serious ? 'failed' : `passed (no high or critical advisory: ${JSON.stringify(counts)})`;
    results.push({ name: 'npm audit', outcome, skipped: false, mustRun: true });
  } else {
    // No answer is not a pass: it is a skipped check, and says why.
    const why = report.message ?? 'the registry gave no audit report';
    // A mirror without the endpoint cannot audit at all; a registry that did not answer could.
    const noEndpoint = /\b(404|405)\b/.test(why);
    results.push({ name: 'npm audit', outcome: `skipped: ${why}`, skipped: true, mustRun: !noEndpoint });
  }
}

const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';
const missed = results.filter((result) => result.skipped && result.mustRun);
for (const result of results) console.log(`  ${result.name}: ${result.outcome}`);
if (problems.length > 0) {
  console.error(`Hygiene check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
if (inCi && missed.length > 0) {
  console.error(
    `Hygiene check failed: in CI every check must run, and ${missed.map((r) => r.name).join(', ')} did not.`,
  );
  process.exit(1);
}
const ran = results.filter((result) => !result.skipped).length;
console.log(
  ran === results.length
    ? 'Hygiene check passed.'
    : `Hygiene check passed, but only ${ran} of ${results.length} checks ran (see "skipped" above).`,
);
