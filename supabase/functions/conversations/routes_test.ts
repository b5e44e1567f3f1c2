import { apiKeyFrom, BadRequest, parseRoute, queryBody, rpcCall, statusFor, takeWait } from "./routes.ts";

const ID = "91000000-0000-4000-8000-000000000001";
const WS = "b0000000-0000-4000-8000-000000000001";

function equal(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

Deno.test("routes", () => {
  equal(parseRoute("/functions/v1/conversations/start"), { action: "start" });
  equal(parseRoute(`/conversations/${ID}/messages`), { action: "messages", conversationId: ID });
  equal(parseRoute(`/conversations/${ID.toUpperCase()}/end`), { action: "end", conversationId: ID });
  equal(parseRoute(`/functions/v1/conversations/${ID}`), { action: "get", conversationId: ID });
  equal(parseRoute("/conversations/not-a-uuid/messages"), null);
  equal(parseRoute(`/conversations/${ID}/acknowledge`), { action: "acknowledge", conversationId: ID });
  equal(parseRoute(`/conversations/${ID}/updates`), { action: "updates", conversationId: ID });
  equal(parseRoute(`/conversations/${ID}/delete`), null);
  equal(parseRoute("/conversations"), null);
});

Deno.test("api keys come from the bearer or X-Api-Key header, shaped like one", () => {
  const key = "halo_sk_" + "ab".repeat(32);
  equal(apiKeyFrom(new Headers({ Authorization: `Bearer ${key}` })), key);
  equal(apiKeyFrom(new Headers({ "X-Api-Key": key })), key);
  equal(apiKeyFrom(new Headers({ Authorization: "Bearer eyJhbGciOi.jwt.token" })), null);
  equal(apiKeyFrom(new Headers()), null);
});

Deno.test("bodies become RPC calls with the key's workspace", () => {
  const call = rpcCall({ action: "messages", conversationId: ID }, { role: "ai", text: "Hi", confidence: 80 }, WS);
  equal(call.fn, "add_conversation_message");
  equal(call.params, { p_workspace_id: WS, p_role: "ai", p_text: "Hi", p_confidence: 80, p_conversation_id: ID });
  const ack = rpcCall({ action: "acknowledge", conversationId: ID }, { message_ids: [ID] }, WS);
  equal([ack.fn, ack.shape, ack.params], [
    "acknowledge_widget_replies",
    "value",
    { p_workspace_id: WS, p_message_ids: [ID], p_conversation_id: ID },
  ]);
  const updates = rpcCall(
    { action: "updates", conversationId: ID },
    queryBody(new URLSearchParams("after_seq=41&limit=abc")),
    WS,
  );
  // Whole numbers become numbers; anything else is left for the database to refuse by name.
  equal(updates.params, { p_workspace_id: WS, p_after_seq: 41, p_limit: "abc", p_conversation_id: ID });
  // The body cannot pick another workspace: workspace_id is not a field.
  for (const [body, message] of [
    [{ role: "ai" }, "text is required"],
    [{ role: "ai", text: "x", workspace_id: WS }, "unknown field workspace_id"],
    [[1], "the body must be a JSON object"],
  ] as const) {
    try {
      rpcCall({ action: "messages", conversationId: ID }, body, WS);
      throw new Error(`accepted ${JSON.stringify(body)}`);
    } catch (error) {
      if (!(error instanceof BadRequest) || !error.message.startsWith(message)) throw error;
    }
  }
});

Deno.test("wait is taken out of an updates query and bounded", () => {
  const route = { action: "updates" as const, conversationId: ID };
  const body = queryBody(new URLSearchParams("after_seq=3&wait=20"));
  equal([takeWait(route, body), body], [20, { after_seq: 3 }]);
  equal(takeWait(route, { after_seq: 3 }), 0);
  // Only updates waits: elsewhere `wait` stays in the body and is refused as an unknown field.
  equal(takeWait({ action: "get", conversationId: ID }, { wait: 5 }), 0);
  for (const wait of ["26", "-1", "1.5", "soon"]) {
    try {
      takeWait(route, queryBody(new URLSearchParams({ wait })));
      throw new Error(`accepted wait=${wait}`);
    } catch (error) {
      if (!(error instanceof BadRequest) || !error.message.startsWith("wait must be")) throw error;
    }
  }
});

Deno.test("database errors map to statuses", () => {
  equal([statusFor("22023"), statusFor("P0002"), statusFor("PT409"), statusFor("42501"), statusFor("XX000")], [
    400,
    404,
    409,
    403,
    500,
  ]);
});
