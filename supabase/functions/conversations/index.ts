// conversations: the conversation API for an AI runtime that holds a workspace API key.
//
//   POST /functions/v1/conversations/start               {session_id?, mode?, ai_agent_id?, contact_id?, anonymous_id?, metadata?}
//   POST /functions/v1/conversations/identify            {anonymous_id, contact_id? | email?, name?, external_id?}
//   POST /functions/v1/conversations/<id>/messages       {role: user|ai|teammate|system, text, confidence?, tool_calls?, author_user_id?, client_echo_id?}
//   POST /functions/v1/conversations/<id>/heartbeat      {}
//   POST /functions/v1/conversations/<id>/widget         {open: true|false}  (opening answers the queued replies)
//   POST /functions/v1/conversations/<id>/acknowledge    {message_ids: [...]}  (the queued replies shown; until then each opening answers them again)
//   POST /functions/v1/conversations/<id>/human          {}  (the "talk to a human" button)
//   POST /functions/v1/conversations/<id>/end            {reason?: closed|timed_out, outcome?, ai_score?}
//   GET  /functions/v1/conversations/<id>                the conversation (state, ai_paused, outcome)
//   GET  /functions/v1/conversations/<id>/updates?after_seq=N&limit=M&wait=S
//        what happened since seq N, gap-free: {events: [{seq, event, data, message?}], after_seq, more};
//        wait=S (≤ 25) holds an empty answer until something happens (a long poll)
//
// An API key is not a Realtime credential: a runtime holding only a key polls /updates with the
// last seq it got (takeovers, teammate replies, completion; nothing missed); one with the service
// key listens on `conversation:<id>`.
//
// Authorization: `Bearer halo_sk_…` (or `X-Api-Key`), checked by api.verify_api_key on every
// request, so a revoked key stops working at once. Each call passes the key's workspace to the
// RPC, which answers "not found" for another workspace's conversation. Errors are JSON
// {error, code}: 400 bad input (the field is named), 401 key, 404 not found, 409 the
// conversation's state forbids it (AI paused, completed), 413 too large. The RPCs are single
// transactions: a refused request writes nothing.
import { createClient } from "npm:@supabase/supabase-js@2";
import {
  apiKeyFrom,
  BadRequest,
  MAX_BODY_BYTES,
  parseRoute,
  queryBody,
  READS,
  rpcCall,
  statusFor,
  takeWait,
  USAGE,
} from "./routes.ts";

// While a long poll waits, the database is asked again this often (the most an update waits).
const WAIT_POLL_MS = 500;

const supabase = createClient(
  Deno.env.get("SUPABASE_URL")!,
  Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!,
  { auth: { persistSession: false, autoRefreshToken: false } },
);
const api = supabase.schema("api");

function reply(status: number, body: unknown): Response {
  return Response.json(body, { status });
}

function log(action: string, fields: Record<string, unknown>): void {
  // Ids, actions and codes only: never message text or addresses.
  console.log(JSON.stringify({ action, ...fields }));
}

async function readBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (new TextEncoder().encode(text).length > MAX_BODY_BYTES) throw new RangeError("too large");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest("the body is not valid JSON");
  }
}

Deno.serve(async (req) => {
  const url = new URL(req.url);
  const route = parseRoute(url.pathname);
  if (route === null) return reply(404, { error: USAGE });
  const method = READS.includes(route.action) ? "GET" : "POST";
  if (req.method !== method) return reply(405, { error: `${method} only for this route` });
  if (Number(req.headers.get("Content-Length") ?? "0") > MAX_BODY_BYTES) {
    return reply(413, { error: `the body is larger than ${MAX_BODY_BYTES} bytes` });
  }
  const key = apiKeyFrom(req.headers);
  if (key === null) {
    return reply(401, { error: "send a workspace API key: Authorization: Bearer halo_sk_…" });
  }
  const verified = await api.rpc("verify_api_key", { p_key: key });
  if (verified.error) {
    log("conversations.failed", { step: "verify_api_key", code: verified.error.code });
    return reply(503, { error: "could not check the API key; retry later" });
  }
  const workspaceId = verified.data as string | null;
  if (!workspaceId) return reply(401, { error: "the API key is unknown or revoked" });

  let call;
  let wait = 0;
  try {
    const body = method === "GET" ? queryBody(url.searchParams) : await readBody(req);
    if (route.action === "updates") wait = takeWait(route, body as Record<string, unknown>);
    call = rpcCall(route, body, workspaceId);
  } catch (error) {
    if (error instanceof BadRequest) return reply(400, { error: error.message, code: "22023" });
    if (error instanceof RangeError) {
      return reply(413, { error: `the body is larger than ${MAX_BODY_BYTES} bytes` });
    }
    throw error;
  }
  let { data, error } = await api.rpc(call.fn, call.params);
  const deadline = Date.now() + wait * 1000;
  while (!error && data?.events?.length === 0 && Date.now() < deadline && !req.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_POLL_MS, deadline - Date.now())));
    // Past what was left out (notes, ticket events): the cursor the answer will carry.
    call.params.p_after_seq = data.after_seq;
    ({ data, error } = await api.rpc(call.fn, call.params));
  }
  if (error) {
    const status = statusFor(error.code);
    log("conversations.refused", { route: route.action, code: error.code, status });
    return reply(status, status === 500 ? { error: "internal error", code: error.code } : {
      error: error.message,
      code: error.code,
      hint: error.hint ?? undefined,
    });
  }
  log("conversations.ok", { route: route.action, workspace_id: workspaceId, conversation_id: route.conversationId });
  return reply(call.status, call.shape === "many" ? { delivered: data ?? [] } : call.shape === "value" ? { result: data } : data);
});
