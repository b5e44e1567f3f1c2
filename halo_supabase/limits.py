"""Limits that more than one layer enforces, declared here once.

The edge functions (TypeScript) and the database (check constraints, function guards) cannot
import Python, so they write the same numbers; tests fail when one differs from this module:

* `MESSAGE_MAX_BYTES`: the largest inbound email, the providers' own limit (Mailgun, Postmark and
  SendGrid stop at 25 MB). Edge function `supabase/functions/_shared/limits.ts` (refuses larger
  posts), `webhooks.py` (refuses a larger rebuilt message), the database (the `size_bytes` check
  of `halo.inbound_emails`, the `inbound-email` bucket's `file_size_limit`).
* `INLINE_RAW_MAX_BYTES`: the largest delivery kept in the database instead of Storage. Edge
  function (chooses inline or Storage), the database (the `raw_inline` check and
  `api.receive_inbound_email`'s guard).
* `JOB_BATCH_MAX`: the most jobs one call claims or completes. Settings (`HALO_WORKER_BATCH`),
  `jobs.CompletionBatcher`, the database (`api.claim_jobs`, `api.complete_jobs`).
* `JOB_LEASE_MAX_SECONDS`: the longest job lease (a day). Settings (`HALO_WORKER_LEASE_SECONDS`),
  the database (`api.claim_jobs`, `api.extend_job_lease`).

The agreement tests: `tests/stack/test_inbound_email_rules.py` (TypeScript) and
`tests/db/test_limits.py` (database). Why Python holds the declaration:
`docs/decisions/0004-limits-declared-once.md`.
"""

from __future__ import annotations

__all__ = ["INLINE_RAW_MAX_BYTES", "JOB_BATCH_MAX", "JOB_LEASE_MAX_SECONDS", "MESSAGE_MAX_BYTES"]

MESSAGE_MAX_BYTES = 25 * 1024 * 1024
INLINE_RAW_MAX_BYTES = 64 * 1024
JOB_BATCH_MAX = 1000
JOB_LEASE_MAX_SECONDS = 24 * 60 * 60
