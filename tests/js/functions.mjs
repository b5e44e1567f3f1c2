// Edge Functions through supabase-js: invoke with JSON and text bodies, a sub-path with a query,
// the verify_jwt refusal, and an unknown function. Prints one JSON document.
// These scripts never open a realtime socket; Node 20 has no global WebSocket, which supabase-js
// requires at construction, so a placeholder transport stands in for it there.
const realtime = { transport: globalThis.WebSocket ?? class NoRealtimeHere {} };
import { createClient, FunctionsHttpError } from "@supabase/supabase-js";

const url = process.env.SUPABASE_URL;
const client = createClient(url, process.env.SUPABASE_ANON_KEY, { realtime });
const out = {};

const json = await client.functions.invoke("echo", { body: { name: "Node" }, headers: { "x-custom": "js" } });
out.json = { greeting: json.data?.greeting, custom: json.data?.custom, contentType: json.data?.contentType, error: json.error?.message ?? null };
const text = await client.functions.invoke("echo/deep?x=1", { method: "PATCH", body: "plain words" });
out.text = { method: text.data?.method, path: text.data?.path, query: text.data?.query, body: text.data?.body, contentType: text.data?.contentType };
const open = await client.functions.invoke("open", { method: "GET" });
out.open = open.data;

const forged = createClient(url, process.env.SUPABASE_ANON_KEY, { accessToken: async () => "not.a.jwt", realtime });
const refused = await forged.functions.invoke("echo", { body: {} });
out.refused = { isHttpError: refused.error instanceof FunctionsHttpError, status: refused.error?.context?.status, body: await refused.error?.context?.json() };
const missing = await client.functions.invoke("nope", { body: {} });
out.missing = { status: missing.error?.context?.status, body: await missing.error?.context?.text() };
console.log(JSON.stringify(out));
