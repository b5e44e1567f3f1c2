// Who may deliver mail: the Mailgun signature, basic auth, the relay's bearer token. The one
// implementation of these checks; the Mailgun signature is tested against the shared vectors
// (tests/fixtures/webhooks/mailgun_signatures.json, run by rules_test.ts and from pytest).

export const MAILGUN_MAX_AGE_SECONDS = 300;

export type SignatureProblem = "malformed" | "stale" | "bad-signature";

const encoder = new TextEncoder();

async function hmacHex(key: string, message: string): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    encoder.encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Constant time over equal lengths, so the comparison does not reveal how much of a guess matched.
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

// Mailgun: hex HMAC-SHA256 with the webhook signing key over timestamp + token. Checked in this
// order: malformed, stale (more than maxAge seconds off, either way), bad-signature. Replays are
// refused by the database, which records the token only after this check passed
// (api.receive_inbound_email), so forged requests cannot fill the token store.
export async function mailgunSignatureProblem(
  signingKey: string,
  timestamp: string,
  token: string,
  signature: string,
  nowSeconds: number,
  maxAge = MAILGUN_MAX_AGE_SECONDS,
): Promise<SignatureProblem | null> {
  if (!/^\d+$/.test(timestamp) || !token || !/^[0-9a-fA-F]{64}$/.test(signature)) {
    return "malformed";
  }
  if (Math.abs(nowSeconds - Number(timestamp)) > maxAge) return "stale";
  const expected = await hmacHex(signingKey, timestamp + token);
  return sameText(expected, signature.toLowerCase()) ? null : "bad-signature";
}

// Basic auth for Postmark and SendGrid (configured in their webhook URLs), bearer for relays.
export function basicAuthMatches(header: string | null, expected: string | undefined): boolean {
  if (!expected || !header?.startsWith("Basic ")) return false;
  let given: string;
  try {
    given = atob(header.slice(6).trim());
  } catch {
    return false;
  }
  return sameText(given, expected);
}

export function bearerMatches(header: string | null, expected: string | undefined): boolean {
  if (!expected || !header?.startsWith("Bearer ")) return false;
  return sameText(header.slice(7).trim(), expected);
}
