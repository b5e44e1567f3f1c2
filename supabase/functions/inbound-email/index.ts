// inbound-email: provider webhooks in, raw deliveries stored durably, one job per delivery.
//
//   POST /functions/v1/inbound-email/mailgun    Mailgun Routes forward (form) or MIME (`body-mime`,
//                                               a text field or a file part with the raw bytes)
//   POST /functions/v1/inbound-email/postmark   Postmark inbound JSON (basic auth)
//   POST /functions/v1/inbound-email/sendgrid   SendGrid Inbound Parse, parsed or raw (basic auth)
//   POST /functions/v1/inbound-email/raw?to=…   raw RFC 5322 from a relay (bearer token)
//
// The delivery is verified, written to the private Storage bucket `inbound-email` (or, when it is
// UTF-8 text of at most 64 KiB, passed inline to be kept in the database), and recorded with its
// `email.inbound` job by api.receive_inbound_email (one transaction) before any 2xx: a 2xx means
// the mail is safe. Failures answer what makes each provider do the right thing: Mailgun
// retries everything but 406, Postmark stops on 403, SendGrid retries any non-2xx. Parsing is the
// worker's job (halo_supabase/email, one parser for every provider); this function only stores.
//
// Secrets (supabase/functions/.env locally, `supabase secrets set` on a project):
//   MAILGUN_WEBHOOK_SIGNING_KEY, INBOUND_BASIC_AUTH ("user:password"), INBOUND_RELAY_TOKEN.
import { createClient } from "npm:@supabase/supabase-js@2";
import { INLINE_RAW_MAX_BYTES, MESSAGE_MAX_BYTES } from "../_shared/limits.ts";
import {
  basicAuthMatches,
  bearerMatches,
  MAILGUN_MAX_AGE_SECONDS,
  mailgunSignatureProblem,
} from "./rules.ts";

type Provider = "mailgun" | "postmark" | "sendgrid" | "raw";
type Format = "mime" | "form" | "json";

// What a refused delivery gets, per provider: "stop retrying" where the provider has such a code.
const REFUSE: Record<Provider, number> = { mailgun: 406, postmark: 403, sendgrid: 400, raw: 400 };
const UNAUTHORIZED: Record<Provider, number> = { mailgun: 406, postmark: 403, sendgrid: 401, raw: 401 };
// A form body carries some overhead on top of the message itself.
const MAX_BODY_BYTES = MESSAGE_MAX_BYTES + 1024 * 1024;
// Most mail is small text: stored inline (in the delivery row and its job), up to
// INLINE_RAW_MAX_BYTES, it costs no Storage upload here and no download in the worker.
// A used Mailgun token is remembered until the timestamp check refuses its replay anyway: the
// timestamp may be up to the maximum age in the past or in the future.
const TOKEN_TTL_SECONDS = 2 * MAILGUN_MAX_AGE_SECONDS;

const supabase = createClient(
  Deno.env.get("SUPABASE_URL")!,
  Deno.env.get("SUPABASE_SERVICE_ROLE_KEY")!,
  { auth: { persistSession: false, autoRefreshToken: false } },
);

class Refused extends Error {
  constructor(readonly status: number, readonly reason: string) {
    super(reason);
  }
}

function reply(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status });
}

function log(action: string, fields: Record<string, unknown>): void {
  // Structured and free of addresses or bodies: provider, sizes, ids, reasons only.
  console.log(JSON.stringify({ action, ...fields }));
}

interface Stored {
  format: Format;
  bytes: Uint8Array;
  recipient: string;
  providerMessageId?: string;
  token?: string;
  fields?: Record<string, string>;
  files?: { field: string; filename: string; content_type: string; data: Uint8Array }[];
}

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The payload as text when it can be kept inline: small, and valid UTF-8 (so it round-trips). */
function inlineText(delivery: Stored): string | null {
  if (delivery.format === "form" || delivery.bytes.length > INLINE_RAW_MAX_BYTES) return null;
  try {
    return strictUtf8.decode(delivery.bytes);
  } catch {
    return null;
  }
}

async function readForm(req: Request): Promise<FormData> {
  try {
    return await req.formData();
  } catch {
    throw new Refused(400, "the body is not a form");
  }
}

async function formPayload(
  form: FormData,
): Promise<{ fields: Record<string, string>; files: NonNullable<Stored["files"]> }> {
  const fields: Record<string, string> = {};
  const files: NonNullable<Stored["files"]> = [];
  for (const [name, value] of form.entries()) {
    if (typeof value === "string") fields[name] = value;
    else {
      files.push({
        field: name,
        filename: value.name,
        content_type: value.type || "application/octet-stream",
        data: new Uint8Array(await value.arrayBuffer()),
      });
    }
  }
  return { fields, files };
}

async function mailgun(req: Request): Promise<Stored> {
  const { fields, files } = await formPayload(await readForm(req));
  const key = Deno.env.get("MAILGUN_WEBHOOK_SIGNING_KEY");
  if (!key) throw new Refused(500, "MAILGUN_WEBHOOK_SIGNING_KEY is not set");
  const problem = await mailgunSignatureProblem(
    key,
    fields.timestamp ?? "",
    fields.token ?? "",
    fields.signature ?? "",
    Date.now() / 1000,
  );
  if (problem) throw new Refused(406, problem);
  const recipient = (fields.recipient ?? "").split(",")[0].trim();
  if (fields["body-mime"]) {
    return { format: "mime", bytes: encoder.encode(fields["body-mime"]), recipient, token: fields.token };
  }
  // `body-mime` as a file part carries the message's bytes as they are (a text field is UTF-8).
  const mime = files.find((file) => file.field === "body-mime");
  if (mime) return { format: "mime", bytes: mime.data, recipient, token: fields.token };
  return { format: "form", bytes: new Uint8Array(), recipient, token: fields.token, fields, files };
}

async function postmark(req: Request): Promise<Stored> {
  if (!basicAuthMatches(req.headers.get("Authorization"), Deno.env.get("INBOUND_BASIC_AUTH"))) {
    throw new Refused(403, "unauthorized");
  }
  const bytes = new Uint8Array(await req.arrayBuffer());
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Refused(403, "the body is not JSON");
  }
  return {
    format: "json",
    bytes,
    recipient: String(payload.OriginalRecipient ?? ""),
    providerMessageId: payload.MessageID ? String(payload.MessageID) : undefined,
  };
}

async function sendgrid(req: Request): Promise<Stored> {
  if (!basicAuthMatches(req.headers.get("Authorization"), Deno.env.get("INBOUND_BASIC_AUTH"))) {
    throw new Refused(401, "unauthorized");
  }
  const { fields, files } = await formPayload(await readForm(req));
  let recipient = "";
  try {
    const envelope = JSON.parse(fields.envelope ?? "{}");
    recipient = Array.isArray(envelope.to) ? String(envelope.to[0] ?? "") : "";
  } catch {
    throw new Refused(400, "envelope is not JSON");
  }
  return { format: "form", bytes: new Uint8Array(), recipient, fields, files };
}

async function raw(req: Request, url: URL): Promise<Stored> {
  if (!bearerMatches(req.headers.get("Authorization"), Deno.env.get("INBOUND_RELAY_TOKEN"))) {
    throw new Refused(401, "unauthorized");
  }
  return {
    format: "mime",
    bytes: new Uint8Array(await req.arrayBuffer()),
    recipient: url.searchParams.get("to") ?? "",
  };
}

async function upload(path: string, data: Uint8Array, contentType: string): Promise<void> {
  const { error } = await supabase.storage.from("inbound-email").upload(path, data, {
    contentType,
    upsert: true,
  });
  if (error) throw new Error(`storage: ${error.message}`);
}

async function store(provider: Provider, delivery: Stored) {
  const id = crypto.randomUUID();
  const day = new Date().toISOString().slice(0, 10);
  const base = `${provider}/${day}/${id}`;
  let bytes = delivery.bytes;
  if (delivery.format === "form") {
    // Form posts are kept as sent (fields + files) and rebuilt into MIME by the worker
    // (halo_supabase/email/webhooks.py).
    const files: { field: string; filename: string; content_type: string; path: string }[] = [];
    for (const file of delivery.files ?? []) {
      const filePath: string = `${base}.files/${files.length}`;
      await upload(filePath, file.data, file.content_type);
      files.push({
        field: file.field,
        filename: file.filename,
        content_type: file.content_type,
        path: filePath,
      });
    }
    bytes = encoder.encode(JSON.stringify({ fields: delivery.fields ?? {}, files }));
  }
  const size = bytes.length + (delivery.files ?? []).reduce((n, f) => n + f.data.length, 0);
  if (size > MESSAGE_MAX_BYTES) throw new Refused(REFUSE[provider], "too large");
  const raw = inlineText(delivery);
  const path = `${base}.${delivery.format === "mime" ? "eml" : "json"}`;
  if (raw === null) {
    const contentType = delivery.format === "mime" ? "message/rfc822" : "application/json";
    await upload(path, bytes, contentType);
  }
  const { data, error } = await supabase.schema("api").rpc("receive_inbound_email", {
    p_provider: provider,
    p_recipient: delivery.recipient || "unknown@invalid.invalid",
    p_storage_path: raw === null ? path : null,
    p_raw: raw,
    p_payload_format: delivery.format,
    p_size_bytes: size,
    p_provider_message_id: delivery.providerMessageId ?? null,
    p_token: delivery.token ?? null,
    p_token_ttl_seconds: TOKEN_TTL_SECONDS,
  });
  if (error) {
    if (error.code === "23505") throw new Refused(406, "replayed");
    throw new Error(`receive_inbound_email: ${error.code} ${error.message}`);
  }
  return data as { id: string; duplicate: boolean; routed?: boolean };
}

Deno.serve(async (req) => {
  const url = new URL(req.url);
  const provider = url.pathname.split("/").filter(Boolean).pop() as Provider;
  if (!(provider in REFUSE)) {
    return reply(404, { error: "use /inbound-email/mailgun, /postmark, /sendgrid or /raw" });
  }
  if (req.method !== "POST") return reply(405, { error: "POST only" });
  const declared = Number(req.headers.get("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES) {
    log("inbound.refused", { provider, reason: "too large", bytes: declared });
    return reply(provider === "mailgun" ? 406 : 413, {
      error: `the message is larger than ${MESSAGE_MAX_BYTES / 1024 / 1024} MB`,
    });
  }
  try {
    const delivery = provider === "mailgun"
      ? await mailgun(req)
      : provider === "postmark"
      ? await postmark(req)
      : provider === "sendgrid"
      ? await sendgrid(req)
      : await raw(req, url);
    if (delivery.bytes.length > MAX_BODY_BYTES) throw new Refused(REFUSE[provider], "too large");
    const result = await store(provider, delivery);
    log("inbound.stored", { provider, id: result.id, duplicate: result.duplicate, routed: result.routed });
    return reply(200, { id: result.id, duplicate: result.duplicate });
  } catch (error) {
    if (error instanceof Refused) {
      const status = error.reason === "unauthorized" ? UNAUTHORIZED[provider] : error.status;
      log("inbound.refused", { provider, reason: error.reason });
      return reply(status, { error: error.reason });
    }
    // Not stored: a 5xx makes every provider retry later.
    log("inbound.failed", { provider, error: String(error).slice(0, 200) });
    return reply(503, { error: "not stored; retry later" });
  }
});
