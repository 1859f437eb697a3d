/** Test doubles for the backend: an in-memory notes store and a server on an ephemeral port. */
import type { AddressInfo } from "node:net";
import type { Note, NotesStore } from "../src/notes";
import { closeServer, createServer, ServerDeps } from "../src/server";

/** Keeps notes in an array; `list` is newest first, like the PostgreSQL store. */
export class InMemoryNotesStore implements NotesStore {
  readonly notes: Note[] = [];
  private clock = Date.parse("2024-01-01T00:00:00Z");

  async list(limit: number): Promise<Note[]> {
    return [...this.notes].reverse().slice(0, limit);
  }

  async add(text: string): Promise<Note> {
    this.clock += 1_000;
    const note = { id: this.notes.length + 1, text, createdAt: new Date(this.clock).toISOString() };
    this.notes.push(note);
    return note;
  }
}

export interface RunningServer {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  readonly close: () => Promise<void>;
}

/** Starts the API on 127.0.0.1 with an OS-chosen port. */
export async function startServer(overrides: Partial<ServerDeps> = {}): Promise<RunningServer> {
  const server = createServer({
    store: new InMemoryNotesStore(),
    checkReady: async () => {},
    logError: () => {},
    ...overrides,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return { url: `http://127.0.0.1:${port}`, close: () => (closing ??= closeServer(server, 1_000)) };
}
