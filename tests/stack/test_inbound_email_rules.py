"""The inbound-email edge function's rules and limits, run where they live: in Deno.

The Mailgun signature has one implementation, `supabase/functions/inbound-email/rules.ts`. The
shared vectors (`tests/fixtures/webhooks/mailgun_signatures.json`) are checked against it by its
Deno test; here pytest runs that test and requires every vector of the file to have passed, so a
vector added to the file cannot go unchecked, and a control run on a tampered copy proves that a
wrong verdict fails. The limits the edge functions share (`supabase/functions/_shared/limits.ts`)
must equal their declaration, `halo_supabase/limits.py`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from deno import find_deno_bin

from halo_supabase import limits
from tests.conftest import REPO, scratch_dir

VECTORS_FILE = REPO / "tests" / "fixtures" / "webhooks" / "mailgun_signatures.json"
RULES_TEST = REPO / "supabase" / "functions" / "inbound-email" / "rules_test.ts"
SHARED_LIMITS = REPO / "supabase" / "functions" / "_shared" / "limits.ts"
DENO_ENV = {"PATH": "/usr/bin:/bin", "DENO_DIR": str(REPO / ".halo" / "deno"), "NO_COLOR": "1"}


def deno_test(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`deno test` on one file, read-only, with the project's Deno cache."""
    return subprocess.run(
        [find_deno_bin(), "test", "--allow-read", "--allow-env", "--no-prompt", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**DENO_ENV, **(env or {})},
        check=False,
    )


def test_every_shared_mailgun_vector_passes_in_the_edge_function() -> None:
    vectors = json.loads(VECTORS_FILE.read_text())["vectors"]
    done = deno_test(RULES_TEST)
    assert done.returncode == 0, done.stdout + done.stderr
    for vector in vectors:
        assert f"mailgun signature: {vector['name']} ... ok" in done.stdout, vector["name"]


def test_a_vector_with_the_wrong_verdict_fails_the_edge_function_test() -> None:
    document = json.loads(VECTORS_FILE.read_text())
    valid = next(v for v in document["vectors"] if v["expected"] is None)
    document["vectors"] = [{**valid, "name": "tampered", "expected": "bad-signature"}]
    tampered = scratch_dir("vectors") / "mailgun_signatures.json"
    tampered.write_text(json.dumps(document))
    done = deno_test(RULES_TEST, {"MAILGUN_VECTORS": str(tampered)})
    assert done.returncode != 0
    assert "mailgun signature: tampered ... FAILED" in done.stdout, done.stdout
    assert "expected bad-signature, got null" in done.stdout + done.stderr


def test_the_edge_functions_limits_equal_their_declaration() -> None:
    done = subprocess.run(
        [
            find_deno_bin(),
            "eval",
            f"import * as limits from {json.dumps(SHARED_LIMITS.as_uri())};"
            " console.log(JSON.stringify(limits));",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=DENO_ENV,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    declared = {name: getattr(limits, name) for name in limits.__all__}
    shared = json.loads(done.stdout)
    assert shared, "limits.ts exports nothing"
    assert {name: declared.get(name) for name in shared} == shared
