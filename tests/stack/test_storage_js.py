"""Storage and Edge Functions through supabase-js 2.109 on Node (tests/js/storage.mjs, functions.mjs)."""

from __future__ import annotations

import httpx

from tests.stack.conftest import Stack
from tests.stack.js import run_js
from tests.stack.storage_fixture import (
    StorageWorld,
    storage_world_fixture,  # noqa: F401  (registers the session fixture)
)


def test_storage_through_supabase_js(storage_world: StorageWorld) -> None:
    user = storage_world.user_a
    out = run_js(storage_world.stack, "storage.mjs", storage_world.token_a, user)
    assert out["rawUpload"] == {"path": f"{user}/js/raw.txt", "error": None}
    assert out["rawMetadata"] == {"source": "js"}  # sent base64 in x-metadata
    assert out["formUpload"] == {"path": f"{user}/js/form.json", "error": None}
    assert out["duplicate"] == {
        "status": 400,
        "statusCode": "409",
        "message": "The resource already exists",
    }
    assert out["download"] == {"text": "upserted", "type": "text/plain"}
    assert out["info"] == {
        "size": 8,
        "contentType": "text/plain",
        "metadata": None,
        "error": None,
    }
    assert (out["exists"], out["missing"]) == (True, False)
    assert out["list"] == ["form.json", "raw.txt"]
    assert out["signed"] == '{"a":1}'
    assert out["ticket"] == {"path": f"{user}/js/ticket.txt", "error": None}
    assert out["ticketDownload"] == "ticket body"
    assert out["moved"] == "Successfully moved"
    # storage-api answers a copy with Key = "<bucket>/<key>", which storage-js returns as path.
    assert out["copied"] == f"sf-private/{user}/js/copied.txt"
    assert out["anonDownload"] == {"statusCode": "404", "data": None}
    assert out["badMime"] == {
        "statusCode": "415",
        "message": "mime type application/pdf is not supported",
    }
    assert out["missingBucket"] == {"statusCode": "404", "message": "Bucket not found"}
    assert (
        out["publicUrl"] == f"{storage_world.stack.url}/storage/v1/object/public/sf-public/a/b.png"
    )
    assert out["removed"] == sorted(
        f"{user}/js/{name}" for name in ("copied.txt", "form.json", "moved.txt", "raw.txt")
    )


def test_functions_through_supabase_js(stack: Stack) -> None:
    warm = httpx.post(
        f"{stack.url}/functions/v1/echo", headers={"apikey": stack.anon_key}, json={}, timeout=120
    )
    assert warm.status_code == 200
    out = run_js(stack, "functions.mjs")
    assert out["json"] == {
        "greeting": "Hello, Node!",
        "custom": "js",
        "contentType": "application/json",
        "error": None,
    }
    assert out["text"] == {
        "method": "PATCH",
        "path": "/echo/deep",
        "query": "?x=1",
        "body": "plain words",
        "contentType": "text/plain",
    }
    assert out["open"]["open"] is True
    assert out["refused"] == {"isHttpError": True, "status": 401, "body": {"msg": "Invalid JWT"}}
    assert out["missing"] == {"status": 404, "body": "Function not found"}
