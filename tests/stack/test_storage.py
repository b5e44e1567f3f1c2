"""Storage through supabase-py's sync client: buckets, objects, RLS, signed URLs, bad input."""

from __future__ import annotations

import uuid

import httpx
import pytest
from storage3.exceptions import StorageApiError

from supabase import create_client
from tests.stack.storage_fixture import (
    StorageWorld,
    client_as,
    storage_world_fixture,  # noqa: F401  (registers the session fixture)
    user_token,
)


def _error(exc: pytest.ExceptionInfo[StorageApiError]) -> tuple[str, str, str]:
    return str(exc.value.status), exc.value.code, exc.value.message


def test_bucket_lifecycle_as_service_role(storage_world: StorageWorld) -> None:
    storage = create_client(storage_world.stack.url, storage_world.stack.service_role_key).storage
    name = f"sf-life-{uuid.uuid4().hex[:6]}"
    assert storage.create_bucket(name, options={"public": False}) == {"name": name}
    bucket = storage.get_bucket(name)
    assert (bucket.id, bucket.public, bucket.file_size_limit) == (name, False, None)
    assert name in {b.id for b in storage.list_buckets()}
    storage.update_bucket(
        name, {"public": True, "file_size_limit": 10, "allowed_mime_types": ["text/plain"]}
    )
    bucket = storage.get_bucket(name)
    assert (bucket.public, bucket.file_size_limit, bucket.allowed_mime_types) == (
        True,
        10,
        ["text/plain"],
    )
    with pytest.raises(StorageApiError) as duplicate:
        storage.create_bucket(name)
    assert _error(duplicate) == ("409", "Duplicate", "The resource already exists")
    storage.from_(name).upload("a.txt", b"hello", {"content-type": "text/plain"})
    with pytest.raises(StorageApiError) as not_empty:
        storage.delete_bucket(name)
    assert _error(not_empty)[0] == "409"
    assert storage.empty_bucket(name) == {"message": "Successfully emptied"}
    assert storage.delete_bucket(name) == {"message": "Successfully deleted"}
    with pytest.raises(StorageApiError) as missing:
        storage.get_bucket(name)
    assert _error(missing) == ("404", "Bucket not found", "Bucket not found")


def test_storage_errors_use_http_400_with_the_status_in_the_body(
    storage_world: StorageWorld,
) -> None:
    # storage-api answers client errors with HTTP 400 and the real status as `statusCode`.
    response = httpx.get(
        f"{storage_world.stack.url}/storage/v1/bucket/sf-nope",
        headers={"apikey": storage_world.stack.service_role_key},
    )
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": "404",
        "code": "NoSuchBucket",
        "error": "Bucket not found",
        "message": "Bucket not found",
    }


def test_anon_and_users_cannot_create_buckets(storage_world: StorageWorld) -> None:
    for client in (
        client_as(storage_world.stack),
        client_as(storage_world.stack, storage_world.token_a),
    ):
        with pytest.raises(StorageApiError) as denied:
            client.storage.create_bucket(f"sf-evil-{uuid.uuid4().hex[:6]}")
        assert _error(denied) == (
            "403",
            "Unauthorized",
            "new row violates row-level security policy",
        )


def test_user_objects_round_trip(storage_world: StorageWorld) -> None:
    bucket = client_as(storage_world.stack, storage_world.token_a).storage.from_("sf-private")
    folder = storage_world.user_a
    answer = bucket.upload(
        f"{folder}/notes/a.txt",
        b"first",
        {"content-type": "text/plain", "metadata": {"ticket": 7}},
    )
    assert answer.path == f"{folder}/notes/a.txt"
    assert answer.full_path == f"sf-private/{folder}/notes/a.txt"
    assert bucket.download(f"{folder}/notes/a.txt") == b"first"
    with pytest.raises(StorageApiError) as duplicate:
        bucket.upload(f"{folder}/notes/a.txt", b"again", {"content-type": "text/plain"})
    assert _error(duplicate) == ("409", "Duplicate", "The resource already exists")
    bucket.upload(
        f"{folder}/notes/a.txt", b"second", {"content-type": "text/plain", "upsert": "true"}
    )
    assert bucket.download(f"{folder}/notes/a.txt") == b"second"
    bucket.update(
        f"{folder}/notes/a.txt", b"third", {"content-type": "text/plain", "metadata": {"ticket": 8}}
    )
    assert bucket.download(f"{folder}/notes/a.txt") == b"third"

    info = bucket.info(f"{folder}/notes/a.txt")
    assert info["size"] == 5
    assert info["content_type"] == "text/plain"
    assert info["metadata"] == {"ticket": 8}
    assert bucket.exists(f"{folder}/notes/a.txt") is True
    assert bucket.exists(f"{folder}/notes/missing.txt") is False

    bucket.upload(f"{folder}/notes/b.md", b"# b", {"content-type": "text/markdown"})
    bucket.upload(f"{folder}/top.txt", b"top", {"content-type": "text/plain"})
    top = bucket.list(folder)
    assert [(e["name"], e["id"] is None) for e in top] == [("notes", True), ("top.txt", False)]
    assert top[1]["metadata"]["size"] == 3
    notes = bucket.list(
        f"{folder}/notes", {"limit": 1, "offset": 1, "sortBy": {"column": "name", "order": "asc"}}
    )
    assert [e["name"] for e in notes] == ["b.md"]
    assert [e["name"] for e in bucket.list(f"{folder}/notes", {"search": "a"})] == ["a.txt"]
    desc = bucket.list(f"{folder}/notes", {"sortBy": {"column": "name", "order": "desc"}})
    assert [e["name"] for e in desc] == ["b.md", "a.txt"]

    bucket.move(f"{folder}/notes/b.md", f"{folder}/moved/b.md")
    assert bucket.download(f"{folder}/moved/b.md") == b"# b"
    with pytest.raises(StorageApiError) as gone:
        bucket.download(f"{folder}/notes/b.md")
    assert _error(gone) == ("404", "not_found", "Object not found")
    bucket.copy(f"{folder}/top.txt", f"{folder}/copy.txt")
    assert bucket.download(f"{folder}/copy.txt") == b"top"

    removed = bucket.remove([f"{folder}/copy.txt", f"{folder}/moved/b.md", f"{folder}/nope"])
    assert sorted(r["name"] for r in removed) == [f"{folder}/copy.txt", f"{folder}/moved/b.md"]
    assert bucket.exists(f"{folder}/copy.txt") is False


def test_rls_keeps_users_apart(storage_world: StorageWorld) -> None:
    a = client_as(storage_world.stack, storage_world.token_a).storage.from_("sf-private")
    b = client_as(storage_world.stack, storage_world.token_b).storage.from_("sf-private")
    key = f"{storage_world.user_a}/secret.txt"
    a.upload(key, b"for a only", {"content-type": "text/plain"})
    blobs, rows = storage_world.blob_count(), storage_world.object_rows("sf-private")

    with pytest.raises(StorageApiError) as read:
        b.download(key)
    assert _error(read) == ("404", "not_found", "Object not found")
    assert b.list(storage_world.user_a) == []
    for attempt in (
        lambda: b.upload(key, b"overwritten", {"content-type": "text/plain", "upsert": "true"}),
        lambda: b.update(key, b"overwritten", {"content-type": "text/plain"}),
        lambda: b.upload(
            f"{storage_world.user_a}/planted.txt", b"x", {"content-type": "text/plain"}
        ),
    ):
        with pytest.raises(StorageApiError) as denied:
            attempt()
        assert _error(denied)[0] == "403"
    assert b.remove([key]) == []
    with pytest.raises(StorageApiError):
        b.move(key, f"{storage_world.user_b}/stolen.txt")
    with pytest.raises(StorageApiError) as sign:
        b.create_signed_url(key, 60)
    assert _error(sign)[0] == "404"

    assert (storage_world.blob_count(), storage_world.object_rows("sf-private")) == (blobs, rows)
    assert a.download(key) == b"for a only"
    service = create_client(storage_world.stack.url, storage_world.stack.service_role_key)
    assert service.storage.from_("sf-private").download(key) == b"for a only"
    anon = client_as(storage_world.stack).storage.from_("sf-private")
    with pytest.raises(StorageApiError) as anon_read:
        anon.download(key)
    assert _error(anon_read)[0] == "404"


def test_public_bucket_is_readable_by_anyone_through_its_public_url(
    storage_world: StorageWorld,
) -> None:
    writer = client_as(storage_world.stack, storage_world.token_a).storage.from_("sf-public")
    key = f"{storage_world.user_a}/logo.txt"
    writer.upload(key, b"public bytes", {"content-type": "text/plain", "cache-control": "60"})
    anon = client_as(storage_world.stack).storage
    url = anon.from_("sf-public").get_public_url(key)
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"public bytes"
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["cache-control"] == "max-age=60"
    assert anon.from_("sf-public").download(key) == b"public bytes"
    base = f"{storage_world.stack.url}/storage/v1/object"
    head = httpx.head(f"{base}/public/sf-public/{key}")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "12")
    public_info = httpx.get(f"{base}/info/public/sf-public/{key}").json()
    assert (public_info["size"], public_info["content_type"]) == (12, "text/plain")
    attachment = httpx.get(anon.from_("sf-public").get_public_url(key, {"download": "x.txt"}))
    assert "attachment" in attachment.headers["content-disposition"]
    with pytest.raises(StorageApiError):
        client_as(storage_world.stack).storage.from_("sf-public").upload(
            "anon.txt", b"x", {"content-type": "text/plain"}
        )
    private_url = anon.from_("sf-private").get_public_url(f"{storage_world.user_a}/secret.txt")
    refused = httpx.get(private_url)
    assert (refused.status_code, refused.json()["message"]) == (400, "Bucket not found")


def test_signed_urls(storage_world: StorageWorld) -> None:
    a = client_as(storage_world.stack, storage_world.token_a).storage.from_("sf-private")
    key = f"{storage_world.user_a}/signed.txt"
    a.upload(key, b"signed bytes", {"content-type": "text/plain"})
    signed = a.create_signed_url(key, 60)
    response = httpx.get(signed["signedURL"])
    assert (response.status_code, response.content) == (200, b"signed bytes")

    token = signed["signedURL"].split("token=")[1]
    forged = httpx.get(signed["signedURL"].replace(token, token[:-3] + "abc"))
    assert forged.json()["error"] == "InvalidJWT"
    other = httpx.get(
        signed["signedURL"].replace("signed.txt", "other.txt"), params={"token": token}
    )
    assert other.json()["error"] == "InvalidSignature"

    many = a.create_signed_urls([key, f"{storage_world.user_a}/absent.txt"], 60)
    assert many[0]["error"] is None and httpx.get(many[0]["signedURL"]).content == b"signed bytes"
    assert many[1]["signedURL"] is None and many[1]["error"]

    upload_key = f"{storage_world.user_a}/via-signed-upload.txt"
    ticket = a.create_signed_upload_url(upload_key)
    done = (
        client_as(storage_world.stack)
        .storage.from_("sf-private")
        .upload_to_signed_url(
            upload_key, ticket["token"], b"uploaded with a token", {"content-type": "text/plain"}
        )
    )
    assert done.path == upload_key
    assert a.download(upload_key) == b"uploaded with a token"
    with pytest.raises(StorageApiError) as replay:
        a.upload_to_signed_url(f"{storage_world.user_a}/elsewhere.txt", ticket["token"], b"x")
    assert _error(replay)[1] == "InvalidSignature"
    # A download token is not an upload token.
    with pytest.raises(StorageApiError) as wrong_scope:
        a.upload_to_signed_url(key, token, b"x")
    assert _error(wrong_scope)[1] == "InvalidSignature"

    b = client_as(storage_world.stack, storage_world.token_b).storage.from_("sf-private")
    with pytest.raises(StorageApiError) as not_yours:
        b.create_signed_upload_url(f"{storage_world.user_a}/intrude.txt")
    assert _error(not_yours)[0] == "403"


def test_bad_input_is_refused_and_nothing_is_stored(storage_world: StorageWorld) -> None:
    a = client_as(storage_world.stack, storage_world.token_a).storage
    limits = a.from_("sf-limits")
    folder = storage_world.user_a
    blobs, rows = storage_world.blob_count(), storage_world.object_rows("sf-limits")

    with pytest.raises(StorageApiError) as too_big:
        limits.upload(f"{folder}/big.txt", b"x" * 1025, {"content-type": "text/plain"})
    assert _error(too_big) == (
        "413",
        "Payload too large",
        "The object exceeded the maximum allowed size",
    )
    with pytest.raises(StorageApiError) as wrong_type:
        limits.upload(f"{folder}/x.pdf", b"%PDF", {"content-type": "application/pdf"})
    assert _error(wrong_type) == (
        "415",
        "invalid_mime_type",
        "mime type application/pdf is not supported",
    )
    with pytest.raises(StorageApiError) as no_bucket:
        a.from_("sf-missing").upload(f"{folder}/x.txt", b"x", {"content-type": "text/plain"})
    assert _error(no_bucket) == ("404", "Bucket not found", "Bucket not found")
    forged = client_as(storage_world.stack, user_token(storage_world.user_a, secret="x" * 40))
    with pytest.raises(StorageApiError) as bad_jwt:
        forged.storage.from_("sf-limits").upload(
            f"{folder}/x.txt", b"x", {"content-type": "text/plain"}
        )
    assert _error(bad_jwt) == ("400", "InvalidJWT", "invalid signature")
    expired = client_as(storage_world.stack, user_token(storage_world.user_a, expires_in=-10))
    with pytest.raises(StorageApiError) as old_jwt:
        expired.storage.from_("sf-limits").list(folder)
    assert _error(old_jwt) == ("400", "InvalidJWT", "jwt expired")

    assert (storage_world.blob_count(), storage_world.object_rows("sf-limits")) == (blobs, rows)
    limits.upload(f"{folder}/ok.png", b"x" * 1024, {"content-type": "image/png"})
    assert storage_world.object_rows("sf-limits") == rows + 1


def test_bucket_listing_options_and_unknown_routes(storage_world: StorageWorld) -> None:
    url = f"{storage_world.stack.url}/storage/v1"
    headers = {"apikey": storage_world.stack.service_role_key}
    listed = httpx.get(
        f"{url}/bucket",
        params={"search": "sf-", "sortColumn": "name", "sortOrder": "desc", "limit": 2},
        headers=headers,
    ).json()
    assert [b["id"] for b in listed] == ["sf-public", "sf-private"]
    assert listed[0]["owner"] == "" and listed[0]["type"] == "STANDARD"
    offset = httpx.get(f"{url}/bucket", params={"search": "sf-", "offset": 2}, headers=headers)
    assert [b["id"] for b in offset.json()] == ["sf-public"]
    unknown = httpx.get(f"{url}/nowhere", headers=headers)
    assert (
        unknown.status_code == 404 and unknown.json()["message"] == "Route GET:/nowhere not found"
    )


def test_names_with_spaces_and_accents_round_trip_and_sign(storage_world: StorageWorld) -> None:
    bucket = client_as(storage_world.stack, storage_world.token_a).storage.from_("sf-private")
    key = f"{storage_world.user_a}/dossiers/résumé final (2).txt"
    bucket.upload(key, "été".encode(), {"content-type": "text/plain; charset=utf-8"})
    assert bucket.download(key) == "été".encode()
    assert [e["name"] for e in bucket.list(f"{storage_world.user_a}/dossiers")] == [
        "résumé final (2).txt"
    ]
    signed = bucket.create_signed_url(key, 60)
    assert httpx.get(signed["signedURL"]).content == "été".encode()
    bucket.remove([key])


def test_signed_upload_also_accepts_post_and_refuses_a_used_name(
    storage_world: StorageWorld,
) -> None:
    a = client_as(storage_world.stack, storage_world.token_a).storage.from_("sf-private")
    key = f"{storage_world.user_a}/posted.bin"
    ticket = a.create_signed_upload_url(key)
    url = f"{storage_world.stack.url}/storage/v1/object/upload/sign/sf-private/{key}"
    posted = httpx.post(
        url,
        params={"token": ticket["token"]},
        content=b"\x00\x01binary",
        headers={
            "content-type": "application/octet-stream",
            "apikey": storage_world.stack.anon_key,
        },
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["Key"] == f"sf-private/{key}"
    assert a.download(key) == b"\x00\x01binary"
    # The ticket was not made with upsert: the name is taken now.
    again = httpx.put(url, params={"token": ticket["token"]}, content=b"x")
    assert again.json()["statusCode"] == "409"
    assert a.download(key) == b"\x00\x01binary"


def test_malformed_bodies_are_400s(storage_world: StorageWorld) -> None:
    url = f"{storage_world.stack.url}/storage/v1"
    headers = {"apikey": storage_world.stack.service_role_key, "content-type": "application/json"}
    bad_json = httpx.post(f"{url}/bucket", content=b"{nope", headers=headers)
    assert (bad_json.status_code, bad_json.json()["statusCode"]) == (400, "400")
    no_prefix = httpx.post(f"{url}/object/list/sf-private", json={}, headers=headers)
    assert no_prefix.json()["message"] == "body must have required property 'prefix'"
    bad_name = httpx.post(f"{url}/bucket", json={"name": "a/b"}, headers=headers)
    assert bad_name.json()["code"] == "InvalidBucketName"
    bad_limit = httpx.post(
        f"{url}/bucket", json={"name": "sf-bad-limit", "file_size_limit": "lots"}, headers=headers
    )
    assert bad_limit.json()["code"] == "InvalidRequest"
    assert "sf-bad-limit" not in {
        b["id"] for b in httpx.get(f"{url}/bucket", headers=headers).json()
    }


def test_downloads_serve_byte_ranges_and_revalidation(storage_world: StorageWorld) -> None:
    writer = client_as(storage_world.stack, storage_world.token_a).storage.from_("sf-public")
    key = f"{storage_world.user_a}/range.bin"
    writer.upload(key, bytes(range(100)), {"content-type": "application/octet-stream"})
    url = writer.get_public_url(key)
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert (part.status_code, part.content) == (206, bytes(range(10, 20)))
    assert part.headers["content-range"] == "bytes 10-19/100"
    assert httpx.get(url, headers={"Range": "bytes=-5"}).content == bytes(range(95, 100))
    assert httpx.get(url, headers={"Range": "bytes=98-500"}).content == bytes([98, 99])
    unsatisfiable = httpx.get(url, headers={"Range": "bytes=100-"})
    assert (unsatisfiable.status_code, unsatisfiable.json()["error"]) == (416, "invalid_range")
    etag = httpx.get(url).headers["etag"]
    cached = httpx.get(url, headers={"If-None-Match": etag})
    assert (cached.status_code, cached.content) == (304, b"")
