import assert from "node:assert/strict";
import type { Note } from "../src/notes";
import { MAX_BODY_BYTES } from "../src/server";
import { InMemoryNotesStore, RunningServer, startServer } from "./fakes";

const postNote = (server: RunningServer, body: string) =>
  fetch(`${server.url}/api/notes`, { method: "POST", headers: { "Content-Type": "application/json" }, body });

describe("backend HTTP API", () => {
  let server: RunningServer;
  afterEach(async () => server?.close());

  describe("probes", () => {
    it("answers /healthz with 200 without asking the database", async () => {
      let checks = 0;
      server = await startServer({ checkReady: async () => void checks++ });
      const res = await fetch(`${server.url}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: "ok" });
      assert.equal(checks, 0);
    });

    it("answers /readyz with 200 when the database check succeeds", async () => {
      server = await startServer({ checkReady: async () => {} });
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: "ready" });
    });

    it("answers /readyz with 503 and the reason when the database check fails", async () => {
      server = await startServer({
        checkReady: async () => {
          throw new Error("connect ECONNREFUSED 10.0.0.7:5432");
        },
      });
      const res = await fetch(`${server.url}/readyz`);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { status: "unavailable", reason: "connect ECONNREFUSED 10.0.0.7:5432" });
    });
  });

  describe("notes", () => {
    it("lists posted notes newest first", async () => {
      server = await startServer();
      for (const text of ["first", "second", "third"]) {
        assert.equal((await postNote(server, JSON.stringify({ text }))).status, 201);
      }
      const res = await fetch(`${server.url}/api/notes`);
      assert.equal(res.status, 200);
      const notes = (await res.json()) as Note[];
      assert.deepEqual(
        notes.map((n) => n.text),
        ["third", "second", "first"],
      );
    });

    it("returns the created note with its id and timestamp", async () => {
      server = await startServer();
      const res = await postNote(server, JSON.stringify({ text: "  buy milk  " }));
      assert.equal(res.status, 201);
      const note = (await res.json()) as Note;
      assert.equal(note.text, "buy milk");
      assert.equal(note.id, 1);
      assert.ok(!Number.isNaN(Date.parse(note.createdAt)));
    });

    it("lists at most 100 notes", async () => {
      const store = new InMemoryNotesStore();
      for (let i = 0; i < 120; i++) await store.add(`note ${i}`);
      server = await startServer({ store });
      const notes = (await (await fetch(`${server.url}/api/notes`)).json()) as Note[];
      assert.equal(notes.length, 100);
      assert.equal(notes[0].text, "note 119");
    });

    it("rejects an empty note with 400 and stores nothing", async () => {
      const store = new InMemoryNotesStore();
      server = await startServer({ store });
      const res = await postNote(server, JSON.stringify({ text: "   " }));
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, /must not be empty/);
      assert.equal(store.notes.length, 0);
    });

    it("rejects a note longer than 500 characters with 400", async () => {
      server = await startServer();
      const res = await postNote(server, JSON.stringify({ text: "x".repeat(501) }));
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, /at most 500 characters, got 501/);
    });

    it("accepts a note of exactly 500 characters", async () => {
      server = await startServer();
      const res = await postNote(server, JSON.stringify({ text: "x".repeat(500) }));
      assert.equal(res.status, 201);
    });

    it("rejects a body that is not JSON with 400", async () => {
      server = await startServer();
      const res = await postNote(server, "text=hello");
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), { error: "body must be valid JSON" });
    });

    it("rejects JSON without a string text field with 400", async () => {
      server = await startServer();
      for (const body of ["[]", "null", '"hello"', '{"text": 42}', "{}"]) {
        const res = await postNote(server, body);
        assert.equal(res.status, 400, `status for ${body}`);
      }
    });

    it("refuses a body over 16 KiB with 413", async () => {
      const store = new InMemoryNotesStore();
      server = await startServer({ store });
      const res = await postNote(server, JSON.stringify({ text: "x".repeat(MAX_BODY_BYTES) }));
      assert.equal(res.status, 413);
      assert.match(((await res.json()) as { error: string }).error, /at most 16384 bytes/);
      assert.equal(store.notes.length, 0);
    });

    it("refuses an oversize body sent without a Content-Length with 413", async () => {
      server = await startServer();
      const chunk = new TextEncoder().encode("x".repeat(4096));
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 5; i++) controller.enqueue(chunk);
          controller.close();
        },
      });
      const res = await fetch(`${server.url}/api/notes`, { method: "POST", body, duplex: "half" } as RequestInit);
      assert.equal(res.status, 413);
    });

    it("answers 500 with a generic error when the store fails", async () => {
      const logged: string[] = [];
      server = await startServer({
        store: {
          list: async () => {
            throw new Error("relation notes does not exist");
          },
          add: async () => assert.fail("not called"),
        },
        logError: (message) => void logged.push(message),
      });
      const res = await fetch(`${server.url}/api/notes`);
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { error: "internal error" });
      assert.deepEqual(logged, ["GET /api/notes failed"]);
    });
  });

  describe("routing", () => {
    it("answers an unknown path with a JSON 404", async () => {
      server = await startServer();
      const res = await fetch(`${server.url}/api/unknown`);
      assert.equal(res.status, 404);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      assert.deepEqual(await res.json(), { error: "no route for /api/unknown" });
    });

    it("answers a known path with the wrong method with 405 and the allowed methods", async () => {
      server = await startServer();
      const res = await fetch(`${server.url}/api/notes`, { method: "DELETE" });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "GET, POST");
    });

    it("ignores the query string when routing", async () => {
      server = await startServer();
      const res = await fetch(`${server.url}/healthz?probe=kubelet`);
      assert.equal(res.status, 200);
    });
  });

  describe("shutdown", () => {
    it("finishes an in-flight request before closing, then refuses new connections", async () => {
      let release = () => {};
      const store = new InMemoryNotesStore();
      const slowStore = {
        list: (limit: number) => new Promise<Note[]>((resolve) => (release = () => resolve(store.list(limit)))),
        add: (text: string) => store.add(text),
      };
      server = await startServer({ store: slowStore });
      const inFlight = fetch(`${server.url}/api/notes`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const closed = server.close();
      release();
      assert.equal((await inFlight).status, 200);
      await closed;
      await assert.rejects(fetch(`${server.url}/healthz`));
    });
  });
});
