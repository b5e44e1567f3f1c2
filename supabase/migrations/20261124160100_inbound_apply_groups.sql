-- Applies many inbound emails in one call: the email worker sends every email whose parsing
-- finished while its previous call was in flight, so at high load one gateway request, one
-- transaction and one commit carry a group instead of one email each (`halo bench ingest`: the
-- worker's HTTP calls were over half its CPU). Each email runs in its own subtransaction, so one
-- email's error is that email's result, not the group's: the others are applied, and the failed
-- one's job is retried by the worker as before. api.apply_inbound_email stays the unit of work
-- (idempotent per delivery) and the single-email entry point.
--
-- A group holds the workspace's ticket counter from its first new ticket to its commit, so
-- groups of one workspace run one after the other; with several worker processes, two groups
-- that touch the same contact in opposite orders can deadlock, and PostgreSQL then fails one
-- email of one group (40P01), which is retried.

-- API objects -------------------------------------------------------------------------------------

create function api.apply_inbound_emails(p_items jsonb) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  item jsonb;
  outcome jsonb;
  outcomes jsonb := '[]';
  failure_code text;
  failure_message text;
begin
  if p_items is null or jsonb_typeof(p_items) <> 'array'
     or jsonb_array_length(p_items) not between 1 and 500 then
    raise exception 'p_items must be an array of 1 to 500 {"inbound_id", "email"} objects'
      using errcode = '22023';
  end if;
  if exists (select 1 from jsonb_array_elements(p_items) e
              where jsonb_typeof(e) <> 'object'
                 or jsonb_typeof(e->'inbound_id') is distinct from 'string'
                 or jsonb_typeof(e->'email') is distinct from 'object') then
    raise exception 'every entry of p_items needs a string "inbound_id" and an object "email"'
      using errcode = '22023';
  end if;

  for item in select e from jsonb_array_elements(p_items) e loop
    begin
      outcome := api.apply_inbound_email((item->>'inbound_id')::uuid, item->'email');
    exception when others then
      get stacked diagnostics failure_code = returned_sqlstate, failure_message = message_text;
      outcome := jsonb_build_object(
        'error', jsonb_build_object('code', failure_code, 'message', failure_message));
    end;
    outcomes := outcomes || jsonb_build_array(outcome);
  end loop;
  return outcomes;
end
$$;
grant execute on function api.apply_inbound_emails(jsonb) to service_role;

revoke execute on all functions in schema halo, api from public;
