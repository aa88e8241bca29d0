// The example resource: notes that users own, gated by permissions (`note:*` in
// server/auth/roles.ts). Users see and change their own; a role with `note:*:any` (admin)
// sees and changes anyone's. Copy it for your first table, or delete it: this file, its
// line in _app.ts, `notes` in db/schema.ts and db/schema.postgres.ts (then
// `npm run db:generate`), the `note` entity and grants (permissions.ts, roles.ts),
// web/src/pages/NotesPage.tsx with its link and route in App.tsx and its block in
// styles.css, test/server/routers/note.test.ts, test/e2e/notes.spec.ts, and the notes in
// scripts/seed.ts.
import { TRPCError } from '@trpc/server';
import { type SQL, and, desc, eq, lt, or } from 'drizzle-orm';
import { z } from 'zod';
import { AuthError, toTRPCError } from '../auth/errors.ts';
import { type Capability, can } from '../auth/permissions.ts';
import type { Context } from '../context.ts';
import { permissionProcedure, router } from '../trpc.ts';

const NOT_FOUND = 'No such note';
const idInput = z.string().regex(/^[\w-]{1,64}$/, 'Not a note id');
/** PostgreSQL refuses NUL in text (SQLite keeps it): refused here, on both, with a 400. */
const noNul = (text: string) => !text.includes('\0');
const titleInput = z
  .string()
  .trim()
  .min(1, 'Give the note a title')
  .max(200, 'Title is at most 200 characters')
  .refine(noNul, 'A title cannot contain NUL characters');
const bodyInput = z
  .string()
  .max(5000, 'A note is at most 5000 characters')
  .refine(noNul, 'A note cannot contain NUL characters');
/** `<updatedAt ms>.<id>` of the last note of the previous page (newest first). */
const cursorInput = z.string().regex(/^\d{1,15}\.[\w-]{1,64}$/, 'Not a cursor from note.list');

type Caller = Context & { user: { id: string; role: Parameters<typeof can>[0]['role'] }; access: 'own' | 'any' };

/** With `:own` access only the caller's rows match; with `:any`, every row. */
const scope = (ctx: Caller): SQL | undefined =>
  ctx.access === 'own' ? eq(ctx.db.tables.notes.ownerId, ctx.user.id) : undefined;

/**
 * The note `id` if the caller may do `capability` to it. A note the caller may not even read
 * is "not found", exactly like one that does not exist: ids of others' notes are no oracle.
 */
async function noteFor(ctx: Caller, id: string, capability: Capability) {
  const { notes } = ctx.db.tables;
  const [note] = await ctx.db.select().from(notes).where(eq(notes.id, id));
  if (!note || !can(ctx.user, 'note:read', note.ownerId)) {
    throw new TRPCError({ code: 'NOT_FOUND', message: NOT_FOUND });
  }
  if (!can(ctx.user, capability, note.ownerId)) {
    throw toTRPCError(new AuthError('insufficient_permission', `${ctx.user.role} lacks ${capability} on a note`));
  }
  return note;
}

export const noteRouter = router({
  /** Newest first, `limit` at a time; `ownerId` filters (only to oneself with `note:read:own`). */
  list: permissionProcedure('note:read')
    .input(
      z
        .object({
          limit: z.number().int().min(1).max(100).default(20),
          cursor: cursorInput.optional(),
          ownerId: idInput.optional(),
        })
        .default({ limit: 20 }),
    )
    .query(async ({ ctx, input }) => {
      if (ctx.access === 'own' && input.ownerId !== undefined && input.ownerId !== ctx.user.id) {
        throw toTRPCError(new AuthError('insufficient_permission', 'note:read:own cannot list other owners'));
      }
      const { notes } = ctx.db.tables;
      const [at, id] = input.cursor ? input.cursor.split('.') : [];
      const after =
        at && id
          ? or(
              lt(notes.updatedAt, new Date(Number(at))),
              and(eq(notes.updatedAt, new Date(Number(at))), lt(notes.id, id)),
            )
          : undefined;
      const rows = await ctx.db
        .select()
        .from(notes)
        .where(and(scope(ctx), input.ownerId ? eq(notes.ownerId, input.ownerId) : undefined, after))
        .orderBy(desc(notes.updatedAt), desc(notes.id))
        .limit(input.limit + 1);
      const page = rows.slice(0, input.limit);
      const last = page.at(-1);
      return {
        notes: page,
        nextCursor: rows.length > input.limit && last ? `${last.updatedAt.getTime()}.${last.id}` : null,
      };
    }),

  get: permissionProcedure('note:read')
    .input(z.object({ id: idInput }))
    .query(async ({ ctx, input }) => noteFor(ctx, input.id, 'note:read')),

  create: permissionProcedure('note:create')
    .input(z.object({ title: titleInput, body: bodyInput.default('') }))
    .mutation(async ({ ctx, input }) => {
      const now = ctx.now();
      const [note] = await ctx.db
        .insert(ctx.db.tables.notes)
        .values({ ownerId: ctx.user.id, title: input.title, body: input.body, createdAt: now, updatedAt: now })
        .returning();
      return note!;
    }),

  update: permissionProcedure('note:update')
    .input(z.object({ id: idInput, title: titleInput.optional(), body: bodyInput.optional() }))
    .mutation(async ({ ctx, input }) => {
      await noteFor(ctx, input.id, 'note:update');
      const { notes } = ctx.db.tables;
      // Scoped again in the statement itself: a note that changed hands meanwhile is not touched.
      const [updated] = await ctx.db
        .update(notes)
        .set({ title: input.title, body: input.body, updatedAt: ctx.now() })
        .where(and(eq(notes.id, input.id), scope(ctx)))
        .returning();
      if (!updated) throw new TRPCError({ code: 'NOT_FOUND', message: NOT_FOUND });
      return updated;
    }),

  delete: permissionProcedure('note:delete')
    .input(z.object({ id: idInput }))
    .mutation(async ({ ctx, input }) => {
      await noteFor(ctx, input.id, 'note:delete');
      const { notes } = ctx.db.tables;
      const [deleted] = await ctx.db
        .delete(notes)
        .where(and(eq(notes.id, input.id), scope(ctx)))
        .returning({ id: notes.id });
      if (!deleted) throw new TRPCError({ code: 'NOT_FOUND', message: NOT_FOUND });
      return { ok: true as const };
    }),
});
