"""Which functions exist and how each is configured, read from the project as the Supabase CLI
reads it: `<functions dir>/<name>/index.ts`, `[functions.<name>]` in the `config.toml` beside the
functions directory, and secrets from `<functions dir>/.env`.

Everything is re-read when its modification time changes, so editing a function, its config or
its secrets takes effect on the next request without restarting the gateway.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

__all__ = ["FunctionCatalog", "FunctionSpec"]

# The CLI's function slug rule; other folders (e.g. `_shared`) hold modules, not functions.
_SLUG = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_SHARED = "_shared"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    entrypoint: Path
    verify_jwt: bool
    # Changes whenever a file the function may load changes: its own folder, `_shared`, the
    # config and the secrets; a running worker with an older signature is restarted.
    signature: int


class FunctionCatalog:
    def __init__(self, functions_dir: Path) -> None:
        self.functions_dir = functions_dir
        self.config_path = functions_dir.parent / "config.toml"
        self.env_path = functions_dir / ".env"
        self._config: dict[str, dict[str, object]] = {}
        self._config_mtime: int | None = None

    def find(self, name: str) -> FunctionSpec | None:
        if not _SLUG.match(name):
            return None
        entrypoint = self.functions_dir / name / "index.ts"
        if not entrypoint.is_file():
            return None
        config = self._function_config(name)
        if config.get("enabled") is False:
            return None
        return FunctionSpec(
            name=name,
            entrypoint=entrypoint,
            verify_jwt=config.get("verify_jwt", True) is not False,
            signature=self._signature(entrypoint.parent),
        )

    def secrets(self) -> dict[str, str]:
        if not self.env_path.is_file():
            return {}
        return {k: v for k, v in dotenv_values(self.env_path).items() if v is not None}

    def _function_config(self, name: str) -> dict[str, object]:
        try:
            mtime = self.config_path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        if mtime != self._config_mtime:
            with self.config_path.open("rb") as file:
                functions = tomllib.load(file).get("functions", {})
            self._config = functions if isinstance(functions, dict) else {}
            self._config_mtime = mtime
        section = self._config.get(name, {})
        return section if isinstance(section, dict) else {}

    def _signature(self, folder: Path) -> int:
        # A hash of every file's path, mtime, size and inode: an edit changes at least one of
        # them even within one tick of the file-system clock (same mtime), and so does a file
        # replaced by an editor's rename or a file added or deleted.
        files: list[Path] = [p for p in (self.config_path, self.env_path) if p.exists()]
        for root in (folder, self.functions_dir / _SHARED):
            for directory, subdirectories, names in os.walk(root):
                # Installed packages are Deno's doing, not the developer's: neither a reason to
                # reload nor worth a stat per request.
                subdirectories[:] = [
                    d for d in subdirectories if d != "node_modules" and not d.startswith(".")
                ]
                files.extend(Path(directory, name) for name in names)
        state = []
        for path in files:
            with contextlib.suppress(FileNotFoundError):  # deleted while we walk
                info = path.stat()
                state.append((str(path), info.st_mtime_ns, info.st_size, info.st_ino))
        return hash(tuple(state))
