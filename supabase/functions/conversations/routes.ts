// The conversations API's pure logic: routes, request bodies to RPC calls, errors to statuses.
// index.ts does the I/O; routes_test.ts checks this file with `deno test`.

export type Action =
  | "start"
  | "identify"
  | "get"
  | "messages"
  | "heartbeat"
  | "widget"
  | "acknowledge"
  | "updates"
  | "human"
  | "end";

export interface Route {
  action: Action;
  conversationId?: string;
}

export interface RpcCall {
  fn: string;
  params: Record<string, unknown>;
  // "one" answers the row, "many" a list, "value" a scalar.
  shape: "one" | "many" | "value";
  status: number;
}

export class BadRequest extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_KEY = /^halo_sk_[0-9a-f]{64}$/;
export const MAX_BODY_BYTES = 256 * 1024;

export const USAGE = "use POST /conversations/start, /conversations/identify, or " +
  "/conversations/<id>/messages, /heartbeat, /widget, /acknowledge, /human, /end; " +
  "GET /conversations/<id>, /conversations/<id>/updates?after_seq=N&wait=S";

// /functions/v1/conversations/<...>: everything after the function's own name.
export function parseRoute(pathname: string): Route | null {
  const parts = pathname.split("/").filter(Boolean);
  const at = parts.indexOf("conversations");
  const rest = at < 0 ? parts : parts.slice(at + 1);
  if (rest.length === 1 && (rest[0] === "start" || rest[0] === "identify")) {
    return { action: rest[0] };
  }
  if (rest.length === 1 && UUID.test(rest[0])) {
    return { action: "get", conversationId: rest[0].toLowerCase() };
  }
  const perConversation = ["messages", "heartbeat", "widget", "acknowledge", "updates", "human", "end"];
  if (rest.length === 2 && UUID.test(rest[0]) && perConversation.includes(rest[1])) {
    return { action: rest[1] as Action, conversationId: rest[0].toLowerCase() };
  }
  return null;
}

// The routes read with GET; their fields come from the query string.
export const READS: Action[] = ["get", "updates"];

// A GET's query string as a body: whole numbers become numbers (after_seq=12, limit=50).
export function queryBody(params: URLSearchParams): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of params) body[name] = /^\d{1,18}$/.test(value) ? Number(value) : value;
  return body;
}

// `wait` (updates only, whole seconds): hold an answer that has no events until one comes or the
// time is up, so a runtime needs one request per change instead of one per poll interval.
export const MAX_WAIT_SECONDS = 25;

export function takeWait(route: Route, body: Record<string, unknown>): number {
  if (route.action !== "updates" || !("wait" in body)) return 0;
  const wait = body.wait;
  delete body.wait;
  if (typeof wait !== "number" || !Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
    throw new BadRequest(`wait must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}`);
  }
  return wait;
}

// The workspace API key from `Authorization: Bearer <key>` or `X-Api-Key`; null when absent or
// not shaped like one (no database round trip for garbage).
export function apiKeyFrom(headers: Headers): string | null {
  const bearer = headers.get("Authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const key = bearer ?? headers.get("X-Api-Key")?.trim() ?? null;
  return key !== null && API_KEY.test(key) ? key : null;
}

// Body fields each action accepts, and the RPC parameter each becomes.
const FIELDS: Record<Action, Record<string, string>> = {
  start: {
    session_id: "p_session_id",
    mode: "p_mode",
    ai_agent_id: "p_ai_agent_id",
    contact_id: "p_contact_id",
    anonymous_id: "p_anonymous_id",
    metadata: "p_metadata",
  },
  identify: {
    anonymous_id: "p_anonymous_id",
    contact_id: "p_contact_id",
    email: "p_email",
    name: "p_name",
    external_id: "p_external_id",
  },
  messages: {
    role: "p_role",
    text: "p_text",
    confidence: "p_confidence",
    tool_calls: "p_tool_calls",
    author_user_id: "p_author_user_id",
    client_echo_id: "p_client_echo_id",
  },
  get: {},
  heartbeat: {},
  widget: { open: "p_open" },
  acknowledge: { message_ids: "p_message_ids" },
  updates: { after_seq: "p_after_seq", limit: "p_limit" },
  human: {},
  end: { reason: "p_end_reason", outcome: "p_outcome", ai_score: "p_ai_score" },
};

const REQUIRED: Partial<Record<Action, string[]>> = {
  identify: ["anonymous_id"],
  messages: ["role", "text"],
  widget: ["open"],
  acknowledge: ["message_ids"],
};

const CALLS: Record<Action, Omit<RpcCall, "params">> = {
  start: { fn: "start_conversation", shape: "one", status: 201 },
  identify: { fn: "identify_visitor", shape: "value", status: 200 },
  messages: { fn: "add_conversation_message", shape: "one", status: 201 },
  get: { fn: "get_conversation", shape: "one", status: 200 },
  heartbeat: { fn: "conversation_heartbeat", shape: "value", status: 200 },
  widget: { fn: "set_widget_open", shape: "many", status: 200 },
  acknowledge: { fn: "acknowledge_widget_replies", shape: "value", status: 200 },
  updates: { fn: "conversation_updates", shape: "one", status: 200 },
  human: { fn: "request_human", shape: "value", status: 202 },
  end: { fn: "complete_conversation", shape: "one", status: 200 },
};

// The RPC for a request: the body's fields renamed, the key's workspace added. Unknown or missing
// fields are refused by name; values are checked by the database.
export function rpcCall(route: Route, body: unknown, workspaceId: string): RpcCall {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new BadRequest("the body must be a JSON object");
  }
  const fields = FIELDS[route.action];
  const params: Record<string, unknown> = { p_workspace_id: workspaceId };
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (!(name in fields)) {
      const allowed = Object.keys(fields);
      throw new BadRequest(
        `unknown field ${name}; ${route.action} takes ${allowed.length ? allowed.join(", ") : "no fields"}`,
      );
    }
    if (value !== null && value !== undefined) params[fields[name]] = value;
  }
  for (const name of REQUIRED[route.action] ?? []) {
    if (!(fields[name] in params)) throw new BadRequest(`${name} is required`);
  }
  if (route.conversationId) params.p_conversation_id = route.conversationId;
  return { ...CALLS[route.action], params };
}

// PostgREST error codes (SQLSTATEs) to HTTP statuses.
export function statusFor(code: string | undefined): number {
  switch (code) {
    case "22023": // invalid parameter, named in the message
    case "22P02": // malformed value (a uuid, a number)
    case "22003": // a number out of range
    case "23502":
    case "23503": // a referenced agent or contact of another workspace
    case "23514": // a check constraint
    case "PGRST202": // no such function signature: an argument of the wrong type
      return 400;
    case "42501":
      return 403;
    case "P0002":
      return 404;
    case "PT409":
      return 409;
    default:
      return 500;
  }
}
