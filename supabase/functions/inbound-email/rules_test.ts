// The same vectors as tests/unit/test_webhook_vectors.py runs through the Python reference.
import { basicAuthMatches, bearerMatches, mailgunSignatureProblem } from "./rules.ts";

const vectors = JSON.parse(
  await Deno.readTextFile(
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
