"""Run a supabase-js script from tests/js/ against the stack and read the JSON it prints last."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.stack.conftest import Stack

JS_DIR = Path(__file__).resolve().parent.parent / "js"


def run_js(stack: Stack, script: str, *args: str, timeout: float = 60) -> Any:
    """`node tests/js/<script>` with SUPABASE_URL and both keys in its environment.

    The script prints one JSON document as its last line of stdout; a non-zero exit fails the test
    with the script's output.
    """
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; supabase-js tests need Node.js 20+")
    if not (JS_DIR / "node_modules" / "@supabase" / "supabase-js").is_dir():
        pytest.fail(
            "tests/js/node_modules is missing: run `npm ci --prefix tests/js` (make test does)"
        )
    env = {
        **stack.env,
        "SUPABASE_URL": stack.url,
        "SUPABASE_ANON_KEY": stack.anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key,
    }
    done = subprocess.run(
        [node, str(JS_DIR / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=JS_DIR,
    )
    if done.returncode != 0:
        pytest.fail(f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        pytest.fail(f"{script} printed nothing:\n{done.stderr}")
    return json.loads(lines[-1])
