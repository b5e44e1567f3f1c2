"""Entry-point logging never lets client libraries log bodies, frames or URLs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from halo_supabase.log_format import configure_service_logging
from halo_supabase.logs import BODY_LOGGING_LIBRARIES, configure_logging, quiet_body_logging


@pytest.fixture(autouse=True)
def restore_levels() -> Iterator[None]:
    names = ["", *BODY_LOGGING_LIBRARIES]
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = logging.getLogger().handlers[:]
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger().handlers[:] = handlers


def test_lowering_the_root_later_does_not_reopen_library_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_body_logging()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("openai._base_client").debug("Request options: body")
        logging.getLogger("httpx").info("HTTP Request: GET /rest/v1/contacts?email=eq.a@b.example")
        logging.getLogger("halo_supabase.runtime").debug("ours")
    assert [r.name for r in caplog.records] == ["halo_supabase.runtime"]


@pytest.mark.parametrize("configure", [configure_logging, configure_service_logging])
def test_entry_points_pin_libraries_at_warning_or_the_configured_level(configure: object) -> None:
    assert callable(configure)
    configure("DEBUG")
    assert {logging.getLogger(n).level for n in BODY_LOGGING_LIBRARIES} == {logging.WARNING}
    configure("ERROR")
    assert {logging.getLogger(n).level for n in BODY_LOGGING_LIBRARIES} == {logging.ERROR}
