// Runs the reports service: `npx tsx examples/reports-service/main.ts` with
//   REPORTS_JWKS_URL  the API's key set, e.g. http://127.0.0.1:3000/.well-known/jwks.json
//   REPORTS_ISSUER    the API's JWT_ISSUER (its APP_ORIGIN by default)
//   REPORTS_AUDIENCE  this service's audience, as in the API's JWT_SERVICES (reports=<audience>)
//   REPORTS_ALG       the API's JWT_ALG (default EdDSA)
//   REPORTS_MAX_TOKEN_AGE  the API's ACCESS_TOKEN_TTL in seconds (default 900)
//   REPORTS_JWKS_MAX_AGE   seconds the key set is trusted before it is fetched again (default 300)
//   PORT (default 4100), HOST (default 127.0.0.1)
// It is given no secret and no private key: it has none to give away.
import type { AddressInfo } from 'node:net';
import { createReportsService } from './service.ts';

const need = (name: string) => {
  const value = process.env[name];
  if (value) return value;
  process.stderr.write(`reports-service: ${name} is required (see the top of examples/reports-service/main.ts)\n`);
  process.exit(1);
};
const algorithm = process.env.REPORTS_ALG || 'EdDSA';
if (algorithm !== 'EdDSA' && algorithm !== 'ES256') {
  process.stderr.write(`reports-service: REPORTS_ALG must be EdDSA or ES256, not "${algorithm}"\n`);
  process.exit(1);
}

const seconds = (name: string, fallback: number) => {
  const value = Number(process.env[name] || fallback);
  if (Number.isInteger(value) && value > 0) return value;
  process.stderr.write(`reports-service: ${name} must be a whole number of seconds, not "${process.env[name]}"\n`);
  process.exit(1);
};

const server = createReportsService({
  jwksUrl: need('REPORTS_JWKS_URL'),
  issuer: need('REPORTS_ISSUER'),
  audience: need('REPORTS_AUDIENCE'),
  algorithm,
  maxTokenAgeSeconds: seconds('REPORTS_MAX_TOKEN_AGE', 900),
  jwksMaxAgeSeconds: seconds('REPORTS_JWKS_MAX_AGE', 300),
});
server.listen(Number(process.env.PORT || 4100), process.env.HOST || '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`Reports service: Listening on http://${address}:${port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
process.once('SIGINT', () => server.close(() => process.exit(0)));
