"""The REST service's configuration: `[api]` of supabase/config.toml plus gateway settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from halo_supabase.settings import Settings

__all__ = ["RestConfig"]


@dataclass(frozen=True)
class RestConfig:
    schemas: tuple[str, ...]  # exposed; the first is the default profile
    extra_search_path: tuple[str, ...]
    max_rows: int | None
    max_body_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RestConfig:
        path = settings.supabase_dir / "config.toml"
        api: dict[str, object] = {}
        if path.is_file():
            with path.open("rb") as file:
                api = dict(tomllib.load(file).get("api", {}))
        schemas = [str(s) for s in api.get("schemas", ["public", "graphql_public"])]  # type: ignore[attr-defined]
        for extra in settings.api_extra_schemas.split(","):
            if extra.strip() and extra.strip() not in schemas:
                schemas.append(extra.strip())
        extra_path = tuple(str(s) for s in api.get("extra_search_path", ["public", "extensions"]))  # type: ignore[attr-defined]
        max_rows = api.get("max_rows", 1000)
        return cls(
            schemas=tuple(schemas),
            extra_search_path=extra_path,
            max_rows=int(max_rows) if isinstance(max_rows, int) and max_rows > 0 else None,
            max_body_bytes=settings.rest_max_body_bytes,
        )
