// Limits the edge functions share with the worker and the database. Declared once, in
// halo_supabase/limits.py (docs/decisions/0004-limits-declared-once.md); written again here because
// an edge function cannot import Python. tests/stack/test_inbound_email_rules.py fails when a value
// differs.

// The largest inbound email (the providers' own limit, 25 MB).
export const MESSAGE_MAX_BYTES = 25 * 1024 * 1024;
// The largest delivery kept inline in the database instead of Storage (64 KiB).
export const INLINE_RAW_MAX_BYTES = 64 * 1024;
