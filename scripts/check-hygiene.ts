// `npm run check:hygiene [-- --repo DIR]`: fails when git tracks a .env file or anything
// that looks like a real secret, and when a production dependency has a high or critical
// advisory. CI runs it; run it before you push.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: { repo: { type: 'string', default: '.' }, 'skip-audit': { type: 'boolean', default: false } },
});

const SECRET_PATTERNS: [string, RegExp][] = [
  ['a JWT signing key', /JWT_SECRET(?:_PREVIOUS)?\s*[=:]\s*['"]?[A-Za-z0-9_-]{32,}/],
  ['a JSON Web Token', /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/],
  ['a private key', /-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----/],
  ['an AWS access key', /\bAKIA[0-9A-Z]{16}\b/],
];
const SKIPPED = /(^|\/)(package-lock\.json|.*\.(png|ico|woff2?))$/;

const problems: string[] = [];
// A fresh degit copy has no repository yet: nothing is tracked, so there is nothing to check.
const isRepository = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: args.repo }).status === 0;
if (!isRepository) console.warn('Not a git repository: the tracked-file checks are skipped.');
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

if (!args['skip-audit']) {
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
    if ((counts.high ?? 0) + (counts.critical ?? 0) > 0) {
      problems.push(`npm audit --omit=dev: ${counts.high ?? 0} high and ${counts.critical ?? 0} critical advisories`);
    } else {
      console.log(`npm audit --omit=dev: no high or critical advisories (${JSON.stringify(counts)})`);
    }
  } else {
    // No answer is not a pass: say so loudly, but do not fail a build the registry blocked.
    console.warn(`npm audit --omit=dev could not run here: ${report.message ?? 'the registry gave no audit report'}`);
  }
}

if (problems.length > 0) {
  console.error(`Hygiene check failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`Hygiene check passed: ${files.length} tracked files, no .env, nothing that looks like a secret.`);
