"""The embedded Supabase-compatible local stack (PostgreSQL, bootstrap, migrations, gateway)."""
