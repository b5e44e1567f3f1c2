-- Job administration for the worker runtime and `halo jobs`: give a lease back without spending
-- an attempt (graceful shutdown), put a dead letter back in the queue, discard a dead letter.
-- All service_role only, like the rest of the jobs API.

-- helpers -----------------------------------------------------------------------------------------

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

-- API objects -------------------------------------------------------------------------------------

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
    raise exception 'job % is not a dead letter', p_job_id
      using errcode = '55000', hint = 'Only dead jobs can be retried; list them with `halo jobs list --dead`.';
  end if;
  perform halo.ring_doorbell(job_kind);
  select * into result from api.jobs where id = p_job_id;
  return result;
end
$$;
grant execute on function api.retry_job(bigint) to service_role;

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
    raise exception 'job % is not a dead letter', p_job_id
      using errcode = '55000', hint = 'Only dead jobs can be discarded; list them with `halo jobs list --dead`.';
  end if;
  return p_job_id;
end
$$;
grant execute on function api.discard_job(bigint) to service_role;

-- grants ------------------------------------------------------------------------------------------

revoke execute on all functions in schema halo, api from public;
