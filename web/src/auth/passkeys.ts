// The browser's half of a passkey ceremony: a challenge from the server, the authenticator's
// answer (@simplewebauthn/browser), and a readable sentence when the user cancels.
import {
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
} from '@simplewebauthn/browser';
import { trpcClient } from '../trpc.ts';

export const supportsPasskeys = browserSupportsWebAuthn();

/** Cancelled, timed out, or no passkey for this site: the browser says no more than that, on purpose. */
function ceremonyFailed(error: unknown): never {
  const name = (error as { cause?: { name?: string }; name?: string }).cause?.name ?? (error as Error).name;
  if (name === 'InvalidStateError') throw 'This device already has a passkey for your account.';
  // The page's address is not the server's APP_ORIGIN (or not a secure context): an operator's mistake.
  if (name === 'SecurityError') throw 'Passkeys do not work at this address: open the app at its configured address.';
  throw 'No passkey was used: the request was cancelled or timed out, or this device has none for this site.';
}

/** Asks the authenticator to sign a fresh challenge; the answer goes to the procedure that asked for it. */
export async function passkeyAssertion() {
  // The server's own type for it; tRPC's inference mangles the binary extension inputs we never send.
  const optionsJSON = (await trpcClient.auth.passkeyOptions.mutate()) as PublicKeyCredentialRequestOptionsJSON;
  return startAuthentication({ optionsJSON }).catch(ceremonyFailed);
}

/** Creates a passkey for the signed-in user and registers it (both steps need a recent proof). */
export async function createPasskey(name: string) {
  const optionsJSON = (await trpcClient.passkey.registrationOptions.mutate()) as PublicKeyCredentialCreationOptionsJSON;
  const response = await startRegistration({ optionsJSON }).catch(ceremonyFailed);
  return trpcClient.passkey.register.mutate({ response, name });
}
