// Runs one Supabase Edge Function under plain Deno for the Halo gateway.
//
// A function calls `Deno.serve(handler)` (or exports `default { fetch }`) and expects the edge
// runtime to own the socket; here the handler is bound to a loopback port the kernel picks,
// whatever options the function passed, and the port is written to HALO_FUNCTION_PORT_FILE for
// the gateway (a port chosen by the kernel cannot be taken by another process in between). Uncaught errors
// in a handler answer as the edge runtime does (500 WORKER_ERROR) instead of Deno's plain text.

type Handler = (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

const portFile = Deno.env.get("HALO_FUNCTION_PORT_FILE")!;
const entrypoint = Deno.args[0];
const serve = Deno.serve.bind(Deno);
let served = false;

function workerError(error: unknown): Response {
  console.error(error);
  return Response.json(
    { code: "WORKER_ERROR", message: "Function exited due to an error (please check logs)" },
    { status: 500 },
  );
}

function bind(handler: Handler, onError?: (error: unknown) => Response | Promise<Response>) {
  served = true;
  return serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => {
      // Renamed into place so the gateway never reads a half-written number.
      Deno.writeTextFileSync(`${portFile}.tmp`, String(port));
      Deno.renameSync(`${portFile}.tmp`, portFile);
    },
    onError: onError ?? workerError,
  }, handler);
}

// deno-lint-ignore no-explicit-any
(Deno as any).serve = (first: any, second?: any) => {
  if (typeof first === "function") return bind(first);
  return bind(second ?? first.handler, first.onError);
};

// If the gateway dies without stopping us (SIGKILL), we are re-parented: exit rather than keep
// a stale function holding its port.
const gateway = Deno.ppid;
Deno.unrefTimer(setInterval(() => {
  if (Deno.ppid !== gateway) Deno.exit(0);
}, 1000));

const module = await import(entrypoint);
if (!served) {
  if (typeof module.default?.fetch !== "function") {
    console.error(`${entrypoint} neither calls Deno.serve nor exports default { fetch }`);
    Deno.exit(1);
  }
  bind((request, info) => module.default.fetch(request, info));
}
