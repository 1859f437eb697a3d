/**
 * The HTTP API as a plain `node:http` handler built from its collaborators (a notes store
 * and a readiness check), so tests drive it over real HTTP without a database.
 */
import http from "node:http";
import { LIST_LIMIT, NotesStore, validateNoteInput } from "./notes";

/** Request bodies larger than this are refused with 413. */
export const MAX_BODY_BYTES = 16 * 1024;

export interface ServerDeps {
  readonly store: NotesStore;
  /** Resolves when the app can serve traffic (the database answers); rejects with the reason otherwise. */
  readonly checkReady: () => Promise<void>;
  /** Where unexpected errors are reported. @default console.error */
  readonly logError?: (message: string, error: unknown) => void;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** Answers with `status`: a typed error that unwinds a handler to a JSON response. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createHandler(deps: ServerDeps): http.RequestListener {
  const logError = deps.logError ?? ((message, error) => console.error(message, error));

  const routes: Record<string, Record<string, Handler>> = {
    // Liveness: the process is up and serving. Never touches the database, so a database
    // outage makes pods unready (out of the Service) instead of restarting them in a loop.
    "/healthz": {
      GET: async (_req, res) => sendJson(res, 200, { status: "ok" }),
    },
    // Readiness: only ready while the database answers.
    "/readyz": {
      GET: async (_req, res) => {
        try {
          await deps.checkReady();
          sendJson(res, 200, { status: "ready" });
        } catch (error) {
          sendJson(res, 503, { status: "unavailable", reason: errorMessage(error) });
        }
      },
    },
    "/api/notes": {
      GET: async (_req, res) => sendJson(res, 200, await deps.store.list(LIST_LIMIT)),
      POST: async (req, res) => {
        const input = validateNoteInput(parseJson(await readBody(req, MAX_BODY_BYTES)));
        if (!input.ok) throw new HttpError(400, input.error);
        sendJson(res, 201, await deps.store.add(input.text));
      },
    },
  };

  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const methods = routes[path];
    const handler = methods?.[req.method ?? ""];
    if (!methods) {
      sendJson(res, 404, { error: `no route for ${path}` });
      return;
    }
    if (!handler) {
      res.setHeader("Allow", Object.keys(methods).join(", "));
      sendJson(res, 405, { error: `method ${req.method} not allowed on ${path}` });
      return;
    }
    handler(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        if (error.status === 413) res.setHeader("Connection", "close");
        sendJson(res, error.status, { error: error.message });
        return;
      }
      logError(`${req.method} ${path} failed`, error);
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  };
}

export function createServer(deps: ServerDeps): http.Server {
  return http.createServer(createHandler(deps));
}

/**
 * Stops accepting connections and resolves once in-flight requests have finished; after
 * `graceMs` the remaining connections are cut so shutdown always completes.
 */
export function closeServer(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // close() only drops the connections idle at that moment; keep-alive connections whose
    // request finishes later are dropped here, instead of lingering until the deadline.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close((error) => {
      clearInterval(sweep);
      clearTimeout(deadline);
      if (error) reject(error);
      else resolve();
    });
  });
}

/** Reads the request body, refusing (413) more than `limit` bytes without buffering them. */
function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new HttpError(413, `request body must be at most ${limit} bytes`);
  if (Number(req.headers["content-length"] ?? 0) > limit) {
    req.resume(); // discard what the client still sends; the connection closes after the 413
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new HttpError(400, "body must be valid JSON");
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    "Cache-Control": "no-store",
  });
  res.end(payload);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
