-- The schema `halo bench realtime` measures against: one table signed-in users may read, in the
-- supabase_realtime publication.
create schema if not exists bench_rt;
grant usage on schema bench_rt to authenticated;
create table if not exists bench_rt.items (id bigint generated always as identity primary key,
                                           seq int not null, body text);
alter table bench_rt.items enable row level security;
grant select on bench_rt.items to authenticated;
drop policy if exists "signed-in users read items" on bench_rt.items;
create policy "signed-in users read items" on bench_rt.items
  for select to authenticated using ((select auth.uid()) is not null);
alter publication supabase_realtime add table bench_rt.items;
