-- Seed data for `halo db reset` and `supabase db reset`. The demo workspace arrives with the inbox
-- data model; until then there is nothing to seed.
select 1;
