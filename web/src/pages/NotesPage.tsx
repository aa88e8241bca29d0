// The example resource (server/routers/note.ts): the user's notes, most recently changed
// first, to write, edit and delete. A role with `note:read:any` (admin) sees everyone's, with
// their owner, and can keep to its own. Copy it for your first table. The buttons follow
// usePermissions() only to hide what the server would refuse: the server decides.
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { TRPCClientError } from '@trpc/client';
import type { inferRouterOutputs } from '@trpc/server';
import { type FormEvent, useId, useState } from 'react';
import type { AppRouter } from '../../../server/routers/_app.ts';
import type { Me } from '../auth/use-me.ts';
import { usePermissions } from '../auth/use-permissions.ts';
import { ErrorMessage } from '../components/ErrorMessage.tsx';
import { trpc } from '../trpc.ts';
import { usePageTitle } from '../use-page-title.ts';

type Note = inferRouterOutputs<AppRouter>['note']['list']['notes'][number];
type NoteInput = { title: string; body: string };
type Mode = 'view' | 'edit' | 'confirm-delete';

const PAGE_SIZE = 20;

/** The server's complaint about one field (`error.data.zodError.fieldErrors`), or null. */
function fieldError(error: unknown, field: keyof NoteInput): string | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data = error.data as { zodError?: { fieldErrors: Record<string, string[] | undefined> } | null } | undefined;
  return data?.zodError?.fieldErrors[field]?.join('. ') ?? null;
}

/** The form's values as the server wants them. */
function noteInput(form: HTMLFormElement): NoteInput {
  const data = new FormData(form);
  return { title: String(data.get('title')), body: String(data.get('body')) };
}

export function NotesPage({ user }: { user: Me }) {
  usePageTitle('Notes');
  const { can } = usePermissions();
  const queryClient = useQueryClient();
  const seesEveryone = can('note:read:any');
  const [onlyMine, setOnlyMine] = useState(false);
  const notes = useInfiniteQuery(
    trpc.note.list.infiniteQueryOptions(
      { limit: PAGE_SIZE, ownerId: onlyMine ? user.id : undefined },
      { getNextPageParam: (page) => page.nextCursor },
    ),
  );
  // Every page again, so a changed note moves to the top and a deleted one goes.
  const refetch = () => queryClient.invalidateQueries({ queryKey: trpc.note.list.pathKey() });
  const list = notes.data?.pages.flatMap((page) => page.notes) ?? [];
  const owner = (ownerId: string) => (ownerId === user.id ? 'you' : `user ${ownerId.slice(0, 8)}`);

  return (
    <>
      <h1>Notes</h1>
      {can('note:create') && <NewNote onCreated={refetch} />}
      <h2>{seesEveryone && !onlyMine ? "Everyone's notes" : 'Your notes'}</h2>
      {seesEveryone && (
        <label className="checkbox">
          <input type="checkbox" checked={onlyMine} onChange={(event) => setOnlyMine(event.target.checked)} />
          Only mine
        </label>
      )}
      <ErrorMessage error={notes.error} />
      {notes.isPending && <p className="hint">Loading…</p>}
      {notes.isSuccess && list.length === 0 && (
        <p className="hint">
          {seesEveryone && !onlyMine ? 'Nobody has written a note yet.' : 'You have no notes yet.'}
        </p>
      )}
      <ul className="notes">
        {list.map((note) => (
          <NoteItem
            key={note.id}
            note={note}
            owner={seesEveryone ? owner(note.ownerId) : null}
            mayUpdate={can('note:update', note.ownerId)}
            mayDelete={can('note:delete', note.ownerId)}
            onChanged={refetch}
          />
        ))}
      </ul>
      {notes.hasNextPage && (
        <button type="button" onClick={() => void notes.fetchNextPage()} disabled={notes.isFetchingNextPage}>
          Load more
        </button>
      )}
    </>
  );
}

function NewNote({ onCreated }: { onCreated: () => Promise<void> }) {
  const heading = useId();
  // Pending until the list shows the new note.
  const create = useMutation(trpc.note.create.mutationOptions({ onSuccess: onCreated }));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    create.mutate(noteInput(form), { onSuccess: () => form.reset() });
  }

  return (
    <section aria-labelledby={heading}>
      <h2 id={heading}>New note</h2>
      <form onSubmit={submit} aria-labelledby={heading}>
        <NoteFields error={create.error} />
        <button type="submit" disabled={create.isPending}>
          Add note
        </button>
      </form>
    </section>
  );
}

/** Title and text, each with the server's complaint about it; other errors below them. */
function NoteFields({ note, error }: { note?: Note; error: unknown }) {
  const ids = { title: useId(), titleError: useId(), body: useId(), bodyError: useId() };
  const errors = { title: fieldError(error, 'title'), body: fieldError(error, 'body') };
  return (
    <>
      <label htmlFor={ids.title}>Title</label>
      <input
        id={ids.title}
        name="title"
        defaultValue={note?.title}
        maxLength={200}
        required
        autoFocus={note !== undefined}
        aria-invalid={!!errors.title}
        aria-describedby={ids.titleError}
      />
      <ErrorMessage error={errors.title} id={ids.titleError} />
      <label htmlFor={ids.body}>Text</label>
      <textarea
        id={ids.body}
        name="body"
        defaultValue={note?.body}
        rows={4}
        maxLength={5000}
        aria-invalid={!!errors.body}
        aria-describedby={ids.bodyError}
      />
      <ErrorMessage error={errors.body} id={ids.bodyError} />
      {/* Not a field's: the network, a 404 (the note is gone), a 403. */}
      <ErrorMessage error={errors.title || errors.body ? null : error} />
    </>
  );
}

function NoteItem(props: {
  note: Note;
  /** Who wrote it, for those who see everyone's notes. */
  owner: string | null;
  mayUpdate: boolean;
  mayDelete: boolean;
  onChanged: () => Promise<void>;
}) {
  const { note, owner, onChanged } = props;
  const [mode, setMode] = useState<Mode>('view');
  // Back in view, focus returns to the button that opened the form or the question.
  const [cameFrom, setCameFrom] = useState<Mode>('view');
  // Both stay pending until the list has the change, so the old text never flashes back.
  const update = useMutation(
    trpc.note.update.mutationOptions({ onSuccess: () => onChanged().then(() => switchTo('view')) }),
  );
  const remove = useMutation(trpc.note.delete.mutationOptions({ onSuccess: onChanged }));
  /** A fresh start each time: no error from the last attempt. */
  function switchTo(next: Mode) {
    update.reset();
    remove.reset();
    setCameFrom(mode);
    setMode(next);
  }

  if (mode === 'edit') {
    return (
      <li className="note">
        <form
          aria-label={`Edit ${note.title}`}
          onSubmit={(event) => {
            event.preventDefault();
            update.mutate({ id: note.id, ...noteInput(event.currentTarget) });
          }}
        >
          <NoteFields note={note} error={update.error} />
          <div className="actions">
            <button type="button" onClick={() => switchTo('view')} disabled={update.isPending}>
              Cancel
            </button>
            <button type="submit" disabled={update.isPending}>
              Save
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li className="note">
      <h3>{note.title}</h3>
      {note.body && <p className="note-body">{note.body}</p>}
      <small>
        {owner && <span title={note.ownerId}>By {owner} · </span>}
        {new Date(note.updatedAt).toLocaleString()}
      </small>
      <ErrorMessage error={remove.error} />
      {mode === 'confirm-delete' ? (
        // Keys: two different sets of buttons, not one reused (autoFocus works on a new one only).
        <p className="actions" role="group" aria-label="Confirm deletion" key="confirm">
          Delete this note?
          <button
            type="button"
            className="danger"
            onClick={() => remove.mutate({ id: note.id })}
            disabled={remove.isPending}
          >
            Yes, delete
          </button>
          <button type="button" onClick={() => switchTo('view')} disabled={remove.isPending} autoFocus>
            No
          </button>
        </p>
      ) : (
        <p className="actions" key="buttons">
          {props.mayUpdate && (
            <button type="button" onClick={() => switchTo('edit')} autoFocus={cameFrom === 'edit'}>
              Edit
            </button>
          )}
          {props.mayDelete && (
            <button type="button" onClick={() => switchTo('confirm-delete')} autoFocus={cameFrom === 'confirm-delete'}>
              Delete
            </button>
          )}
        </p>
      )}
    </li>
  );
}
