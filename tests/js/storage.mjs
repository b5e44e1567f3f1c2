// Storage through supabase-js: args are a user's access token and id (their folder in
// sf-private). Prints one JSON document with what each call returned.
// These scripts never open a realtime socket; Node 20 has no global WebSocket, which supabase-js
// requires at construction, so a placeholder transport stands in for it there.
const realtime = { transport: globalThis.WebSocket ?? class NoRealtimeHere {} };
import { createClient } from "@supabase/supabase-js";

const [token, userId] = process.argv.slice(2);
const url = process.env.SUPABASE_URL;
const anonKey = process.env.SUPABASE_ANON_KEY;
const asUser = createClient(url, anonKey, { accessToken: async () => token, realtime });
const anon = createClient(url, anonKey, { realtime });
const bucket = asUser.storage.from("sf-private");
const out = {};

const raw = await bucket.upload(`${userId}/js/raw.txt`, Buffer.from("raw body"), {
  contentType: "text/plain",
  metadata: { source: "js" },
});
out.rawUpload = { path: raw.data?.path, error: raw.error?.message ?? null };
out.rawMetadata = (await bucket.info(`${userId}/js/raw.txt`)).data?.metadata;
const form = await bucket.upload(`${userId}/js/form.json`, new Blob(['{"a":1}'], { type: "application/json" }));
out.formUpload = { path: form.data?.path, error: form.error?.message ?? null };
const duplicate = await bucket.upload(`${userId}/js/raw.txt`, Buffer.from("again"), { contentType: "text/plain" });
out.duplicate = { status: duplicate.error?.status, statusCode: duplicate.error?.statusCode, message: duplicate.error?.message };
await bucket.upload(`${userId}/js/raw.txt`, Buffer.from("upserted"), { contentType: "text/plain", upsert: true });

const downloaded = await bucket.download(`${userId}/js/raw.txt`);
out.download = { text: await downloaded.data?.text(), type: downloaded.data?.type };
const info = await bucket.info(`${userId}/js/raw.txt`);
out.info = { size: info.data?.size, contentType: info.data?.contentType, metadata: info.data?.metadata, error: info.error?.message ?? null };
out.exists = (await bucket.exists(`${userId}/js/raw.txt`)).data;
out.missing = (await bucket.exists(`${userId}/js/none.txt`)).data;
const listed = await bucket.list(`${userId}/js`, { sortBy: { column: "name", order: "asc" } });
out.list = listed.data?.map((entry) => entry.name);

const signed = await bucket.createSignedUrl(`${userId}/js/form.json`, 60);
out.signed = await (await fetch(signed.data.signedUrl)).text();
const ticket = await bucket.createSignedUploadUrl(`${userId}/js/ticket.txt`);
const viaTicket = await anon.storage.from("sf-private").uploadToSignedUrl(
  `${userId}/js/ticket.txt`, ticket.data.token, Buffer.from("ticket body"), { contentType: "text/plain" });
out.ticket = { path: viaTicket.data?.path, error: viaTicket.error?.message ?? null };
out.ticketDownload = await (await bucket.download(`${userId}/js/ticket.txt`)).data?.text();

const moved = await bucket.move(`${userId}/js/ticket.txt`, `${userId}/js/moved.txt`);
out.moved = moved.error?.message ?? moved.data?.message;
const copied = await bucket.copy(`${userId}/js/moved.txt`, `${userId}/js/copied.txt`);
out.copied = copied.error?.message ?? copied.data?.path;

const stolen = await anon.storage.from("sf-private").download(`${userId}/js/raw.txt`);
out.anonDownload = { statusCode: stolen.error?.statusCode ?? null, data: stolen.data };
const bad = await anon.storage.from("sf-limits").upload("x.pdf", Buffer.from("%PDF"), { contentType: "application/pdf" });
out.badMime = { statusCode: bad.error?.statusCode, message: bad.error?.message };
const missingBucket = await asUser.storage.getBucket("sf-does-not-exist");
out.missingBucket = { statusCode: missingBucket.error?.statusCode, message: missingBucket.error?.message };
out.publicUrl = anon.storage.from("sf-public").getPublicUrl("a/b.png").data.publicUrl;

const removed = await bucket.remove([`${userId}/js/raw.txt`, `${userId}/js/form.json`, `${userId}/js/moved.txt`, `${userId}/js/copied.txt`]);
out.removed = removed.data?.map((row) => row.name).sort();
console.log(JSON.stringify(out));
