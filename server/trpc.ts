// tRPC is initialised here, once. Routers import only what this file exports:
// the router factory and the procedure builders (access levels). Edit it to add
// a base procedure; keep auth logic in server/auth/.
import { initTRPC } from '@trpc/server';
import { ZodError, z } from 'zod';
import type { Context } from './context.ts';

const t = initTRPC.context<Context>().create({
  // Stack traces never leave the server; onError in server/app.ts logs them.
  isDev: false,
  errorFormatter({ shape, error }) {
    return {
      ...shape,
      data: {
        ...shape.data,
        zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Anyone may call it, signed in or not. */
export const publicProcedure = t.procedure;
