// The shared Mailgun signature vectors; tests/stack/test_inbound_email_rules.py checks that
// every vector in the file ran here and passed.
import { basicAuthMatches, bearerMatches, mailgunSignatureProblem } from "./rules.ts";

// MAILGUN_VECTORS names another vector file (the pytest control test passes a tampered copy).
const vectors = JSON.parse(
  await Deno.readTextFile(
    Deno.env.get("MAILGUN_VECTORS") ??
      new URL("../../../tests/fixtures/webhooks/mailgun_signatures.json", import.meta.url),
  ),
);

for (const v of vectors.vectors) {
  Deno.test(`mailgun signature: ${v.name}`, async () => {
    const problem = await mailgunSignatureProblem(
      vectors.signing_key,
      v.timestamp,
      v.token,
      v.signature,
      v.now,
      vectors.max_age,
    );
    if (problem !== v.expected) throw new Error(`expected ${v.expected}, got ${problem}`);
  });
}

Deno.test("basic auth and bearer tokens", () => {
  const header = "Basic " + btoa("halo:s3cret");
  if (!basicAuthMatches(header, "halo:s3cret")) throw new Error("right credentials refused");
  if (basicAuthMatches(header, "halo:other")) throw new Error("wrong credentials accepted");
  if (basicAuthMatches(header, undefined)) throw new Error("accepted with nothing configured");
  if (basicAuthMatches("Basic %%%", "halo:s3cret")) throw new Error("garbage accepted");
  if (!bearerMatches("Bearer t0ken", "t0ken") || bearerMatches("Bearer t0ken", "t1ken")) {
    throw new Error("bearer check wrong");
  }
});
