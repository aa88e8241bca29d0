// The product's name, in one place: mail subjects, the authenticator app's label, the
// passkey prompt, and the SPA's header and page titles (web/ imports it) all read it.
export const APP_NAME = 'tRPC JWT starter';
