"""The HTTP client the benchmarks' load generators use.

aiohttp, not httpx: at 200 requests/s over 64 pooled connections httpx's pool spent about 1 ms of
the bench's CPU per request (httpcore rescans every queued request whenever a connection frees
up) and held sends for seconds, so `halo bench conversations` measured its own client: append p50
700 to 1,000 ms with the gateway answering in under 10 ms. With aiohttp the same run's append p50 is
8 ms. The servers under test are unchanged; only the generator got cheaper.
"""

from __future__ import annotations

import aiohttp

__all__ = ["load_session"]


def load_session(connections: int, *, timeout: float) -> aiohttp.ClientSession:
    """A session of up to `connections` keep-alive connections; no proxy from the environment
    (the scratch servers are local)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=timeout),
        trust_env=False,
    )
