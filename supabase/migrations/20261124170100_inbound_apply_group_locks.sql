-- Groups of inbound emails no longer deadlock each other. A new ticket takes its workspace's
-- ticket counter (halo.workspace_counters) and holds it to the end of the transaction; a group
-- applies many emails in one transaction, so with several email workers one group could hold a
-- sender's contact row while waiting for the counter, and another hold the counter while waiting
-- for that contact: PostgreSQL failed one email with 40P01 after a second's wait, and its job was
-- retried. A group now takes the counters of every workspace it writes to before anything else,
-- in workspace order, so two groups of one workspace run one after the other from their start.
-- Groups of one workspace already ran one after the other from their first new ticket, so the
-- throughput of one worker is unchanged. (Events take their workspace's counter only at commit,
-- see 20261124100100, so they are never part of such a cycle.)

-- API objects -------------------------------------------------------------------------------------

create or replace function api.apply_inbound_emails(p_items jsonb) returns jsonb
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

  -- Ids that are not uuids are left to fail as their own email's outcome below.
  perform 1 from halo.workspace_counters c
   where c.workspace_id in (
           select d.workspace_id from halo.inbound_emails d
            where d.id in (select (e->>'inbound_id')::uuid from jsonb_array_elements(p_items) e
                            where e->>'inbound_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'))
   order by c.workspace_id
     for update;

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
