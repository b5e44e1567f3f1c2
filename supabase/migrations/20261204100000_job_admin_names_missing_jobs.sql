-- halo jobs retry/discard name a job that does not exist (P0002) instead of calling it "not a
-- dead letter", and name the state of one that is not dead (55000).

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

create or replace function api.retry_job(p_job_id bigint) returns api.jobs
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
comment on function api.retry_job(p_job_id bigint) is
  'Puts a dead job back in the queue with its attempts reset to 0 (the last error is kept until '
  'it runs again) and returns it. service_role only; raises P0002 when the job does not exist and '
  '55000 when it is not dead.';

create or replace function api.discard_job(p_job_id bigint) returns bigint
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
comment on function api.discard_job(p_job_id bigint) is
  'Deletes a dead job for good and returns its id; its dedupe key is freed, so the same work may '
  'be enqueued again. service_role only; raises P0002 when the job does not exist and 55000 when '
  'it is not dead.';
