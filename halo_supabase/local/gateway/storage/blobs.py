"""Object bytes on disk under HALO_HOME/storage, one immutable file per object version.

A version is written to a temporary file and renamed into place, so a failed request never leaves
a partial object; an object row points at its version, so an upsert's new bytes never overwrite
the bytes a concurrent download reads, and the old version is deleted only after the row change
committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

__all__ = ["BlobStore"]


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"

    def path(self, version: str) -> Path:
        return self.root / "objects" / version[:2] / version

    async def write(self, data: bytes) -> tuple[str, str]:
        """Store `data` as a new version; returns (version, md5 etag)."""
        return await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> tuple[str, str]:
        version = str(uuid.uuid4())
        target = self.path(version)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return version, hashlib.md5(data, usedforsecurity=False).hexdigest()

    async def copy(self, version: str) -> str:
        return await asyncio.to_thread(self._copy, version)

    def _copy(self, version: str) -> str:
        new_version = str(uuid.uuid4())
        target = self.path(new_version)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.tmp)
        os.close(fd)
        try:
            shutil.copyfile(self.path(version), temp)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return new_version

    async def delete(self, *versions: str | None) -> None:
        await asyncio.to_thread(self._delete, versions)

    def _delete(self, versions: tuple[str | None, ...]) -> None:
        for version in versions:
            if version:
                self.path(version).unlink(missing_ok=True)
