/** The notes domain: what a note is, where notes are kept, and what text is accepted. */

export interface Note {
  readonly id: number;
  readonly text: string;
  /** ISO 8601 timestamp set by the store when the note was added. */
  readonly createdAt: string;
}

/** Keeps notes. PostgreSQL in production (`postgres.ts`), an in-memory fake in tests. */
export interface NotesStore {
  /** The newest notes first, at most `limit` of them. */
  list(limit: number): Promise<Note[]>;
  /** Saves `text` (already validated) and returns the stored note. */
  add(text: string): Promise<Note>;
}

export const MAX_NOTE_LENGTH = 500;
export const LIST_LIMIT = 100;

export type Validation = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly error: string };

/** Checks a parsed request body is `{ "text": "..." }` with 1 to 500 characters (after trimming). */
export function validateNoteInput(body: unknown): Validation {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { ok: false, error: 'body must be a JSON object like {"text": "..."}' };
  }
  const text = (body as { text?: unknown }).text;
  if (typeof text !== "string") {
    return { ok: false, error: '"text" must be a string' };
  }
  const trimmed = text.trim();
  if (trimmed === "") {
    return { ok: false, error: '"text" must not be empty' };
  }
  // Count code points, as PostgreSQL does, so an emoji counts as one character.
  const length = [...trimmed].length;
  if (length > MAX_NOTE_LENGTH) {
    return { ok: false, error: `"text" must be at most ${MAX_NOTE_LENGTH} characters, got ${length}` };
  }
  return { ok: true, text: trimmed };
}
