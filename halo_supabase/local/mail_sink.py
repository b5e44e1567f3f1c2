"""The local SMTP sink `halo dev` runs: accepts every message and keeps it as a file.

A minimal SMTP server (RFC 5321 subset: HELO/EHLO, MAIL, RCPT, DATA with dot-unstuffing, RSET,
NOOP, QUIT) on asyncio streams, so outbound email works on a machine with no mail relay and
`halo mail` can show what was sent. Each message is written to `<dir>/<ns-timestamp>.eml`
(with an `X-Halo-Envelope-To` line prepended), never delivered anywhere.
"""

from __future__ import annotations

import asyncio
import time
from email import message_from_bytes, policy
from pathlib import Path

__all__ = ["MailSink", "SentMail", "read_mailbox"]

_MAX_BYTES = 30 * 1024 * 1024


class MailSink:
    """`await sink.start()`, then `sink.port`; `await sink.stop()`."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory, self.host, self.port = directory, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._server = await asyncio.start_server(self._session, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def serve_forever(self) -> None:
        await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        recipients: list[str] = []
        await say("220 halo mail sink ready")
        try:
            while line := await reader.readline():
                verb = line[:4].decode("ascii", "replace").upper()
                if verb in ("HELO", "EHLO"):
                    await say("250-halo\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 31457280")
                elif verb == "MAIL":
                    recipients = []
                    await say("250 OK")
                elif verb == "RCPT":
                    text = line.decode("utf-8", "replace")
                    recipients.append(text.partition(":")[2].strip().strip("<>").split(">")[0])
                    await say("250 OK")
                elif verb == "DATA":
                    await say("354 end with <CRLF>.<CRLF>")
                    self._store(await self._read_data(reader), recipients)
                    await say("250 OK stored")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                elif verb in ("RSET", "NOOP"):
                    recipients = [] if verb == "RSET" else recipients
                    await say("250 OK")
                else:
                    await say("502 command not implemented")
        finally:
            writer.close()

    @staticmethod
    async def _read_data(reader: asyncio.StreamReader) -> bytes:
        lines: list[bytes] = []
        size = 0
        while True:
            line = await reader.readline()
            if line in (b".\r\n", b".\n", b""):
                return b"".join(lines)
            size += len(line)
            if size <= _MAX_BYTES:
                lines.append(line[1:] if line.startswith(b"..") else line)

    def _store(self, data: bytes, recipients: list[str]) -> None:
        envelope = f"X-Halo-Envelope-To: {', '.join(recipients)}\r\n".encode()
        path = self.directory / f"{time.time_ns()}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(envelope + data)
        temporary.rename(path)  # readers never see half a message


class SentMail:
    """One message the sink kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.message = message_from_bytes(path.read_bytes(), policy=policy.default)

    def header(self, name: str) -> str:
        return str(self.message.get(name, "")).strip()


def read_mailbox(directory: Path) -> list[SentMail]:
    """Messages in the sink, oldest first."""
    return [SentMail(path) for path in sorted(directory.glob("*.eml"))]
