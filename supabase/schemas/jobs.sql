-- Durable jobs (transactional outbox): work that needs code is written in the same transaction as
-- the change that needs it, then claimed by workers in batches with a lease.
--
-- One timestamp, `visible_at`, drives claiming: for a queued job it is when it may run (now, or
-- later after a failure's backoff); for a running job it is when its lease expires. A claim takes
-- every queued-or-running job whose visible_at has passed, so an expired lease is reclaimed by the
-- same query and the same partial index as fresh work. Delivery is at least once: handlers are
-- idempotent, and complete/fail/extend need the lease token so a worker whose lease was taken
-- over cannot overwrite the new owner's result.

-- types -------------------------------------------------------------------------------------------

create type halo.job_state as enum ('queued', 'running', 'done', 'dead');

-- tables ------------------------------------------------------------------------------------------

create table halo.jobs (
  id bigint generated always as identity primary key,
  workspace_id uuid references halo.workspaces (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z0-9_.-]{0,62}$'),
  payload jsonb not null default '{}',
  dedupe_key text check (length(dedupe_key) between 1 and 300),
  state halo.job_state not null default 'queued',
  visible_at timestamptz not null default now(),
  attempts integer not null default 0,
  max_attempts integer not null default 5 check (max_attempts between 1 and 100),
  lease_token uuid,
  locked_by text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  check ((state = 'running') = (lease_token is not null))
);

-- indexes -----------------------------------------------------------------------------------------

-- A dedupe key holds for the life of the row (done and dead jobs included), so a retried
-- enqueue of the same work (e.g. one per inbound Message-ID) is a no-op.
create unique index jobs_kind_dedupe_key_key on halo.jobs (kind, dedupe_key)
  where dedupe_key is not null;

create index jobs_workspace_id_idx on halo.jobs (workspace_id);

create index jobs_claimable_idx on halo.jobs (kind, visible_at, id)
  where state in ('queued', 'running');

create index jobs_running_idx on halo.jobs (kind, visible_at)
  where state = 'running';

-- triggers ----------------------------------------------------------------------------------------

-- The doorbell: one broadcast per kind per inserting statement (not per row, and never NOTIFY),
-- on the private topic `jobs:<kind>` that only service_role can join. It only wakes workers; the
-- jobs table is the mailbox, and workers poll it anyway in case a doorbell is missed.
create function halo.ring_job_doorbell() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  job_kind text;
begin
  for job_kind in select distinct kind from inserted_jobs loop
    perform realtime.send(jsonb_build_object('kind', job_kind), 'job_available',
                          'jobs:' || job_kind, true);
  end loop;
  return null;
end
$$;

create trigger jobs_ring_doorbell
  after insert on halo.jobs
  referencing new table as inserted_jobs
  for each statement execute function halo.ring_job_doorbell();

-- row-level security ------------------------------------------------------------------------------

-- No policy: only service_role (which bypasses RLS) and security definer functions touch jobs.
alter table halo.jobs enable row level security;

-- helpers -----------------------------------------------------------------------------------------

-- Enqueues a job unless one with the same (kind, dedupe_key) exists; returns the job's id either
-- way. Triggers call this inside the transaction of the change that needs the work.
create function halo.enqueue_job(
  p_kind text,
  p_payload jsonb default '{}',
  p_dedupe_key text default null,
  p_workspace_id uuid default null,
  p_run_at timestamptz default null,
  p_max_attempts integer default 5
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  job_id bigint;
begin
  insert into halo.jobs (kind, payload, dedupe_key, workspace_id, visible_at, max_attempts)
  values (p_kind, coalesce(p_payload, '{}'), p_dedupe_key, p_workspace_id,
          coalesce(p_run_at, now()), p_max_attempts)
  on conflict (kind, dedupe_key) where dedupe_key is not null do nothing
  returning id into job_id;
  if job_id is null then
    select id into job_id from halo.jobs where kind = p_kind and dedupe_key = p_dedupe_key;
  end if;
  return job_id;
end
$$;
revoke execute on function halo.enqueue_job(text, jsonb, text, uuid, timestamptz, integer) from public;
grant execute on function halo.enqueue_job(text, jsonb, text, uuid, timestamptz, integer) to service_role;

-- Raised when a worker presents a lease it no longer holds.
create function halo.lease_lost(p_job_id bigint) returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'job % is not leased with this token', p_job_id
    using errcode = '55000',
          hint = 'The lease expired and another worker reclaimed the job, or it already finished; drop the result.';
end
$$;
revoke execute on function halo.lease_lost(bigint) from public;
grant execute on function halo.lease_lost(bigint) to service_role;

-- Raised by retry_job and discard_job when the job is not a dead letter: P0002 when there is no
-- such job, 55000 naming its state when it is queued, running or done.
create function halo.refuse_not_dead_letter(p_job_id bigint, p_action text) returns void
language plpgsql
set search_path = ''
as $$
declare
  job_state text;
begin
  select state into job_state from halo.jobs where id = p_job_id;
  if job_state is null then
    raise exception 'job % does not exist', p_job_id
      using errcode = 'P0002', hint = 'List jobs with `halo jobs list`.';
  end if;
  raise exception 'job % is %, not a dead letter', p_job_id, job_state
    using errcode = '55000',
          hint = format('Only dead jobs can be %s; list them with `halo jobs list --dead`.', p_action);
end
$$;
revoke execute on function halo.refuse_not_dead_letter(bigint, text) from public;
grant execute on function halo.refuse_not_dead_letter(bigint, text) to service_role;

-- Job administration for the worker runtime and `halo jobs`: give a lease back without spending
-- an attempt (graceful shutdown), put a dead letter back in the queue, discard a dead letter.
-- All service_role only, like the rest of the jobs API.

-- Rings the doorbell of one kind. The insert trigger rings for new jobs; a job that becomes
-- claimable again by hand (released, retried) rings too, so a waiting worker takes it at once.
create function halo.ring_doorbell(p_kind text) returns void
language sql
security definer
set search_path = ''
as $$
  select realtime.send(jsonb_build_object('kind', p_kind), 'job_available', 'jobs:' || p_kind, true)
$$;
revoke execute on function halo.ring_doorbell(text) from public;
grant execute on function halo.ring_doorbell(text) to service_role;

-- api ---------------------------------------------------------------------------------------------

create view api.jobs with (security_invoker = true) as
  select id, workspace_id, kind, payload, dedupe_key, state, visible_at, attempts, max_attempts,
         lease_token, locked_by, last_error, created_at, updated_at, finished_at
  from halo.jobs;
comment on view api.jobs is
  'The durable job queue (transactional outbox): kind, payload, state (queued, running, done, '
  'dead), visible_at (run time when queued, lease expiry when running), attempts, lease token and '
  'last error. service_role only.';

create function api.enqueue_job(
  p_kind text,
  p_payload jsonb default '{}',
  p_dedupe_key text default null,
  p_workspace_id uuid default null,
  p_run_at timestamptz default null,
  p_max_attempts integer default 5
) returns bigint
language sql
security invoker
set search_path = ''
as $$
  select halo.enqueue_job(p_kind, p_payload, p_dedupe_key, p_workspace_id, p_run_at, p_max_attempts)
$$;
grant execute on function api.enqueue_job(text, jsonb, text, uuid, timestamptz, integer) to service_role;
comment on function api.enqueue_job(p_kind text, p_payload jsonb, p_dedupe_key text, p_workspace_id uuid, p_run_at timestamp with time zone, p_max_attempts integer) is
  'Enqueues a job of p_kind with p_payload, optionally tied to a workspace, delayed until '
  'p_run_at and limited to p_max_attempts; returns the job id. If a job with the same kind and '
  'p_dedupe_key already exists (in any state), no job is added and its id is returned. '
  'service_role only.';

-- Claims up to p_batch jobs of one kind for p_lease_seconds. Jobs whose lease expired on their
-- last attempt are dead-lettered here rather than run again.
create function api.claim_jobs(
  p_kind text,
  p_worker text,
  p_batch integer default 10,
  p_lease_seconds integer default 60
) returns setof api.jobs
language plpgsql
security invoker
set search_path = ''
as $$
declare
  claimed bigint[];
begin
  -- JOB_BATCH_MAX and JOB_LEASE_MAX_SECONDS, declared in halo_supabase/limits.py (tests/db/test_limits.py).
  if p_batch is null or p_batch not between 1 and 1000 then
    raise exception 'p_batch must be between 1 and 1000, got %', p_batch using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'p_lease_seconds must be between 1 and 86400, got %', p_lease_seconds
      using errcode = '22023';
  end if;

  with exhausted as (
    select id from halo.jobs
    where kind = p_kind and state = 'running' and visible_at <= now()
      and attempts >= max_attempts
    for update skip locked
  )
  update halo.jobs j
     set state = 'dead', lease_token = null, locked_by = null, finished_at = now(),
         updated_at = now(),
         last_error = coalesce(j.last_error || E'\n', '') || 'lease expired on the last attempt'
    from exhausted where j.id = exhausted.id;

  with picked as (
    select id from halo.jobs
    where kind = p_kind and state in ('queued', 'running') and visible_at <= now()
    order by visible_at, id
    limit p_batch
    for update skip locked
  ), updated as (
    update halo.jobs j
       set state = 'running', attempts = j.attempts + 1, lease_token = gen_random_uuid(),
           locked_by = p_worker, visible_at = now() + make_interval(secs => p_lease_seconds),
           updated_at = now()
      from picked where j.id = picked.id
    returning j.id
  )
  select coalesce(array_agg(id), '{}') into claimed from updated;

  return query select * from api.jobs where id = any(claimed) order by id;
end
$$;
grant execute on function api.claim_jobs(text, text, integer, integer) to service_role;
comment on function api.claim_jobs(p_kind text, p_worker text, p_batch integer, p_lease_seconds integer) is
  'Claims up to p_batch (1 to 1000) due jobs of p_kind for worker p_worker and leases them for '
  'p_lease_seconds (1 to 86400); queued jobs and running jobs whose lease expired are both '
  'claimed, and jobs whose lease expired on their last attempt are dead-lettered instead. Returns '
  'the claimed jobs with their new lease_token. service_role only; raises 22023 for out-of-range '
  'arguments.';

create function api.complete_job(p_job_id bigint, p_lease_token uuid) returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  update halo.jobs
     set state = 'done', lease_token = null, finished_at = now(), updated_at = now()
   where id = p_job_id and state = 'running' and lease_token = p_lease_token;
  if not found then
    perform halo.lease_lost(p_job_id);
  end if;
end
$$;
grant execute on function api.complete_job(bigint, uuid) to service_role;
comment on function api.complete_job(p_job_id bigint, p_lease_token uuid) is
  'Marks a running job done; the caller must present the current lease token. service_role only; '
  'raises 55000 when the lease was lost (expired and reclaimed, or the job already finished), in '
  'which case the result should be dropped.';

-- Records a failed attempt. The job runs again after p_retry_in_seconds, or after an exponential
-- backoff (10 s, 20 s, 40 s, ... capped at one hour); after max_attempts it is dead-lettered.
create function api.fail_job(
  p_job_id bigint,
  p_lease_token uuid,
  p_error text,
  p_retry_in_seconds integer default null
) returns api.jobs
language plpgsql
security invoker
set search_path = ''
as $$
declare
  result api.jobs;
begin
  if p_retry_in_seconds is not null and p_retry_in_seconds not between 0 and 604800 then
    raise exception 'p_retry_in_seconds must be between 0 and 604800, got %', p_retry_in_seconds
      using errcode = '22023';
  end if;
  update halo.jobs j
     set state = case when j.attempts >= j.max_attempts then 'dead'::halo.job_state
                      else 'queued'::halo.job_state end,
         finished_at = case when j.attempts >= j.max_attempts then now() end,
         visible_at = now() + make_interval(secs => coalesce(
           p_retry_in_seconds, least(3600, 10 * power(2, j.attempts - 1))::integer)),
         lease_token = null, locked_by = null, updated_at = now(),
         last_error = left(p_error, 4000)
   where j.id = p_job_id and j.state = 'running' and j.lease_token = p_lease_token;
  if not found then
    perform halo.lease_lost(p_job_id);
  end if;
  select * into result from api.jobs where id = p_job_id;
  return result;
end
$$;
grant execute on function api.fail_job(bigint, uuid, text, integer) to service_role;
comment on function api.fail_job(p_job_id bigint, p_lease_token uuid, p_error text, p_retry_in_seconds integer) is
  'Records a failed attempt of a leased job with p_error: the job is queued again after '
  'p_retry_in_seconds (0 to 604800) or an exponential backoff (10 s doubling per attempt, capped '
  'at one hour), or dead-lettered once max_attempts is reached. Returns the updated job. '
  'service_role only; raises 55000 when the lease was lost and 22023 for an out-of-range '
  'p_retry_in_seconds.';

-- Extends a lease the caller still holds; returns the new expiry.
create function api.extend_job_lease(
  p_job_id bigint,
  p_lease_token uuid,
  p_lease_seconds integer default 60
) returns timestamptz
language plpgsql
security invoker
set search_path = ''
as $$
declare
  expires timestamptz;
begin
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'p_lease_seconds must be between 1 and 86400, got %', p_lease_seconds
      using errcode = '22023';
  end if;
  update halo.jobs
     set visible_at = clock_timestamp() + make_interval(secs => p_lease_seconds), updated_at = now()
   where id = p_job_id and state = 'running' and lease_token = p_lease_token
  returning visible_at into expires;
  if expires is null then
    perform halo.lease_lost(p_job_id);
  end if;
  return expires;
end
$$;
grant execute on function api.extend_job_lease(bigint, uuid, integer) to service_role;
comment on function api.extend_job_lease(p_job_id bigint, p_lease_token uuid, p_lease_seconds integer) is
  'Extends the lease of a running job held with p_lease_token to p_lease_seconds (1 to 86400) '
  'from now and returns the new expiry. service_role only; raises 55000 when the lease was lost '
  'and 22023 for an out-of-range p_lease_seconds.';

-- Gives back a lease the caller holds: the job is queued again at once and the attempt it was
-- claimed with is not counted, because the work never ran to a result (a worker shutting down).
create function api.release_job(p_job_id bigint, p_lease_token uuid) returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
  job_kind text;
begin
  update halo.jobs
     set state = 'queued', attempts = greatest(attempts - 1, 0), lease_token = null,
         locked_by = null, visible_at = now(), updated_at = now()
   where id = p_job_id and state = 'running' and lease_token = p_lease_token
  returning kind into job_kind;
  if job_kind is null then
    perform halo.lease_lost(p_job_id);
  end if;
  perform halo.ring_doorbell(job_kind);
end
$$;
grant execute on function api.release_job(bigint, uuid) to service_role;
comment on function api.release_job(p_job_id bigint, p_lease_token uuid) is
  'Gives back the lease of a running job without spending an attempt (for a worker shutting '
  'down): the job is queued again at once and workers are woken. service_role only; raises 55000 '
  'when the lease was lost.';

-- Puts a dead letter back in the queue with a fresh set of attempts (its last error is kept
-- until it runs again). Only dead jobs: a queued or running one is already on its way.
create function api.retry_job(p_job_id bigint) returns api.jobs
language plpgsql
security invoker
set search_path = ''
as $$
declare
  job_kind text;
  result api.jobs;
begin
  update halo.jobs
     set state = 'queued', attempts = 0, visible_at = now(), finished_at = null, updated_at = now()
   where id = p_job_id and state = 'dead'
  returning kind into job_kind;
  if job_kind is null then
    perform halo.refuse_not_dead_letter(p_job_id, 'retried');
  end if;
  perform halo.ring_doorbell(job_kind);
  select * into result from api.jobs where id = p_job_id;
  return result;
end
$$;
grant execute on function api.retry_job(bigint) to service_role;
comment on function api.retry_job(p_job_id bigint) is
  'Puts a dead job back in the queue with its attempts reset to 0 (the last error is kept until '
  'it runs again) and returns it. service_role only; raises P0002 when the job does not exist and '
  '55000 when it is not dead.';

-- Deletes a dead letter for good. Its dedupe key is freed with it, so the same work may be
-- enqueued again later.
create function api.discard_job(p_job_id bigint) returns bigint
language plpgsql
security invoker
set search_path = ''
as $$
begin
  delete from halo.jobs where id = p_job_id and state = 'dead';
  if not found then
    perform halo.refuse_not_dead_letter(p_job_id, 'discarded');
  end if;
  return p_job_id;
end
$$;
grant execute on function api.discard_job(bigint) to service_role;
comment on function api.discard_job(p_job_id bigint) is
  'Deletes a dead job for good and returns its id; its dedupe key is freed, so the same work may '
  'be enqueued again. service_role only; raises P0002 when the job does not exist and 55000 when '
  'it is not dead.';

create function api.complete_jobs(p_jobs jsonb) returns bigint[]
language plpgsql
security invoker
set search_path = ''
as $$
declare
  wanted_ids bigint[];
  done_ids bigint[];
begin
  if p_jobs is null or jsonb_typeof(p_jobs) <> 'array'
     or jsonb_array_length(p_jobs) not between 1 and 1000 then
    raise exception 'p_jobs must be an array of 1 to 1000 {"id", "lease_token"} objects'
      using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_jobs) e
              where jsonb_typeof(e) <> 'object'
                 or jsonb_typeof(e->'id') is distinct from 'number'
                 or jsonb_typeof(e->'lease_token') is distinct from 'string') then
    raise exception 'every entry of p_jobs needs a numeric "id" and a string "lease_token"'
      using errcode = '22023';
  end if;

  select array_agg(distinct (e->>'id')::bigint) into wanted_ids
    from jsonb_array_elements(p_jobs) e;

  -- `id = any(array)` is a primary-key lookup whatever the table's statistics say. No
  -- `state = 'running'` here: a lease token exists only on a running job (the table's check), and
  -- that condition let the planner AND in a scan of the whole running-jobs index.
  with done as (
    update halo.jobs j
       set state = 'done', lease_token = null, finished_at = now(), updated_at = now()
     where j.id = any(wanted_ids)
       and j.lease_token = any(array(
             select (e->>'lease_token')::uuid from jsonb_array_elements(p_jobs) e
              where (e->>'id')::bigint = j.id))
    returning j.id
  )
  select coalesce(array_agg(id order by id), '{}') into done_ids from done;

  return coalesce(
    (select array_agg(id order by id) from unnest(wanted_ids) id where id <> all(done_ids)),
    '{}');
end
$$;
grant execute on function api.complete_jobs(jsonb) to service_role;
comment on function api.complete_jobs(p_jobs jsonb) is
  'Completes many leased jobs in one call: p_jobs is an array of 1 to 1000 {id, lease_token} '
  'objects, and each running job whose lease token matches is marked done. Returns the ids that '
  'were not completed because the lease was lost (their results should be dropped); a lost lease '
  'is not an error here. service_role only; raises 22023 for a malformed p_jobs.';

-- grants ------------------------------------------------------------------------------------------

grant select, insert, update, delete on halo.jobs to service_role;

grant select on api.jobs to service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
