"""The two outbound senders over their real protocols: smtplib against the local SMTP sink, and
httpx against a small local server speaking Mailgun's `messages.mime` API."""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from halo_supabase.email import Address, SenderIdentity, build_reply
from halo_supabase.local.mail_sink import MailSink, read_mailbox
from halo_supabase.mail_senders import MailgunSender, MailRejected, SmtpSender
from halo_supabase.runtime import RetryLater

TICKET = uuid.UUID("5b0f3c1e-9d2a-4c55-8e71-0a9f6b2d4e10")


def reply() -> object:
    return build_reply(
        identity=SenderIdentity("support@acme.test", "Acme Support"),
        to=[Address("ada@customer.example", "Ada")],
        subject="Re: Printer on fire",
        text="We are on it.\n.\nA line that is only a dot, above.",
        ticket_id=TICKET,
        message_ref="m1",
        secret=b"s" * 32,
        domain="acme.test",
        replied_message_id="abc@customer.example",
    )


async def test_smtp_sender_hands_the_message_to_the_sink(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    try:
        message = reply()
        await SmtpSender("127.0.0.1", sink.port).send(message, ["ada@customer.example"])  # type: ignore[arg-type]
    finally:
        await sink.stop()
    [sent] = read_mailbox(tmp_path / "mail")
    assert sent.header("X-Halo-Envelope-To") == "ada@customer.example"
    assert sent.header("In-Reply-To") == "<abc@customer.example>"
    assert sent.header("Message-ID").startswith(f"<t.{TICKET}.m.m1.")
    assert "\n.\n" in sent.message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


async def test_smtp_sender_asks_for_a_retry_when_the_relay_is_down() -> None:
    from halo_supabase.local.ports import free_port

    with pytest.raises(RetryLater):
        await SmtpSender("127.0.0.1", free_port(), timeout=2).send(reply(), ["a@b.example"])  # type: ignore[arg-type]


class FakeMailgun(BaseHTTPRequestHandler):
    """Mailgun's `POST /v3/<domain>/messages.mime`: basic auth `api:<key>`, multipart `to` +
    `message`; answers as Mailgun does (200 with an id, 401 Forbidden, 429 rate limit)."""

    received: ClassVar[list[dict[str, object]]] = []
    answer_status = 200

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "Basic " + base64.b64encode(b"api:key-test").decode()
        if self.headers["Authorization"] != expected:
            self._answer(401, b"Forbidden")
            return
        boundary = self.headers.get_param("boundary").encode()  # type: ignore[union-attr]
        fields: dict[str, object] = {}
        for part in body.split(b"--" + boundary)[1:-1]:
            # Each part sits between the CRLF after a boundary and the CRLF before the next.
            head, _, content = part[2:-2].partition(b"\r\n\r\n")
            name = re.search(rb'name="([^"]+)"', head)
            assert name is not None
            fields[name.group(1).decode()] = content
        FakeMailgun.received.append({"path": self.path, **fields})
        if FakeMailgun.answer_status != 200:
            self._answer(FakeMailgun.answer_status, b'{"message": "slow down"}')
            return
        self._answer(
            200,
            json.dumps(
                {"id": "<20261124.1@mg.acme.test>", "message": "Queued. Thank you."}
            ).encode(),
        )

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def fake_mailgun() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMailgun)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeMailgun.received.clear()
    FakeMailgun.answer_status = 200
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_mailgun_sender_posts_our_mime_unchanged(fake_mailgun: str) -> None:
    message = reply()
    provider_id = await MailgunSender(fake_mailgun, "mg.acme.test", "key-test").send(
        message,  # type: ignore[arg-type]
        ["ada@customer.example"],
    )
    assert provider_id == "<20261124.1@mg.acme.test>"
    [request] = FakeMailgun.received
    assert request["path"] == "/v3/mg.acme.test/messages.mime"
    assert request["to"] == b"ada@customer.example"
    assert request["message"] == message.as_bytes()  # type: ignore[attr-defined]


async def test_mailgun_refusals_and_rate_limits(fake_mailgun: str) -> None:
    with pytest.raises(MailRejected, match="401"):
        await MailgunSender(fake_mailgun, "mg.acme.test", "wrong").send(reply(), ["a@b.example"])  # type: ignore[arg-type]
    FakeMailgun.answer_status = 429
    with pytest.raises(RetryLater):
        await MailgunSender(fake_mailgun, "mg.acme.test", "key-test").send(reply(), ["a@b.example"])  # type: ignore[arg-type]
