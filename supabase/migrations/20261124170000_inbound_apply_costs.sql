-- Two costs of applying an inbound email, found with auto_explain and pg_stat_statements during
-- `halo bench ingest` (10,000 webhooks):
--
-- * The dedupe probe (`exists (select 1 from halo.messages where workspace_id = … and
--   email_message_id = …)`) is planned once per gateway connection, while the table is still
--   small, and the plan stays: in about half the runs it became
--   `Index Scan using messages_workspace_id_idx … Filter: (email_message_id = …)`, which reads
--   every message of the workspace; by the end of the run that was 1.2 ms per email instead of
--   0.09 (PostgreSQL CPU per email 3.8 ms in the good runs, 5.0–5.5 in the bad ones). The
--   Message-ID index now leads with workspace_id and is not partial (NULLs are distinct, so the
--   uniqueness of stored Message-IDs is unchanged); it serves the workspace foreign key too, so
--   the single-column index goes and the planner has only the right index to choose from.
-- * The message trigger updated the ticket right after the ticket was inserted, only to set
--   the activity timestamps to the same now(): a non-HOT update of a row with ~20 indexes and
--   its trigger chain, 0.6 ms per email. The trigger now skips an update that changes nothing,
--   and a new email ticket is inserted with its activity timestamps already set.

drop index halo.messages_email_message_id_key;
create unique index messages_email_message_id_key on halo.messages (workspace_id, email_message_id);
drop index halo.messages_workspace_id_idx;

-- triggers ----------------------------------------------------------------------------------------

create or replace function halo.message_created() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  from_customer boolean := new.author_kind = 'customer' and new.kind in ('chat', 'email');
  -- Bounces and auto-replies (marked by the email worker) join a thread but never reopen it.
  automatic boolean := coalesce(new.email_headers->>'halo_kind', '') in ('auto_reply', 'bounce');
  public_reply boolean := new.direction = 'outbound' and new.kind in ('chat', 'email');
  auto_assign boolean := false;
  ticket halo.tickets;
  updated halo.tickets;
begin
  if new.kind = 'system' then
    return null;
  end if;

  insert into halo.mentions (message_id, user_id, workspace_id, ticket_id)
  select new.id, mentioned, new.workspace_id, new.ticket_id from unnest(new.mentions) mentioned
  on conflict do nothing;

  -- The row is locked first, as the update would lock it, so the values are computed from the
  -- ticket as it is now; an update that would change nothing is skipped.
  if new.ticket_id is not null then
    select * into ticket from halo.tickets t where t.id = new.ticket_id for no key update;
  end if;
  if ticket.id is not null then
    if public_reply then
      select coalesce(s.auto_assign_on_reply, false) into auto_assign
        from halo.workspace_settings s where s.workspace_id = new.workspace_id;
    end if;
    updated := ticket;
    updated.last_activity_at := greatest(ticket.last_activity_at, new.created_at);
    if from_customer then
      updated.last_customer_message_at := new.created_at;
      updated.waiting_since := coalesce(ticket.waiting_since, new.created_at);
    elsif public_reply then
      updated.waiting_since := null;
    end if;
    if public_reply and new.author_kind <> 'customer' then
      updated.first_response_at := coalesce(ticket.first_response_at, new.created_at);
    end if;
    if from_customer and not automatic and ticket.status_category in ('resolved', 'snoozed') then
      updated.status_category := 'open';
    end if;
    if public_reply and coalesce(auto_assign, false) and ticket.assignee_id is null
       and new.author_kind in ('teammate', 'alias_user') then
      updated.assignee_id := new.author_user_id;
    end if;
    if updated is distinct from ticket then
      update halo.tickets t
         set last_activity_at = updated.last_activity_at,
             last_customer_message_at = updated.last_customer_message_at,
             waiting_since = updated.waiting_since,
             first_response_at = updated.first_response_at,
             status_category = updated.status_category,
             assignee_id = updated.assignee_id
       where t.id = new.ticket_id;
    end if;
  end if;

  if new.conversation_id is not null and new.author_kind = 'customer' then
    update halo.conversations set last_user_activity_at = new.created_at
     where id = new.conversation_id;
  end if;

  if new.kind = 'email' and new.direction = 'outbound' then
    perform halo.enqueue_job('email.send', jsonb_build_object('message_id', new.id),
                             'message:' || new.id, new.workspace_id);
  end if;

  perform halo.emit_event(new.workspace_id, 'message.created', new.ticket_id, new.conversation_id,
    jsonb_build_object('message_id', new.id, 'kind', new.kind, 'author_kind', new.author_kind));
  return null;
end
$$;

-- API objects -------------------------------------------------------------------------------------

create or replace function api.apply_inbound_email(p_inbound_id uuid, p_email jsonb) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  delivery halo.inbound_emails;
  automatic boolean := p_email->>'kind' in ('auto_reply', 'bounce');
  sender text := lower(p_email->>'from_email');
  customer text := lower(coalesce(p_email->>'customer_email', p_email->>'from_email'));
  contact uuid;
  ticket halo.tickets;
  candidate text;
  found_ticket uuid;
  new_message uuid;
  result jsonb;
  participants jsonb;
begin
  select * into delivery from halo.inbound_emails where id = p_inbound_id for update;
  if delivery.id is null then
    raise exception 'inbound email % does not exist', p_inbound_id using errcode = 'P0002';
  end if;
  if delivery.state <> 'received' then
    return delivery.outcome || jsonb_build_object('replayed', true);
  end if;

  if p_email->>'message_id' is not null and exists (
    select 1 from halo.messages
     where workspace_id = delivery.workspace_id and email_message_id = p_email->>'message_id'
  ) then
    result := jsonb_build_object('result', 'duplicate');
    update halo.inbound_emails set state = 'duplicate', outcome = result, applied_at = now()
     where id = p_inbound_id;
    return result;
  end if;

  -- Threading: verified ticket ids first, then stored Message-IDs, each behind the guards.
  for candidate in
    select value from jsonb_array_elements_text(coalesce(p_email->'ticket_candidates', '[]'))
    union all
    select m.ticket_id::text
      from jsonb_array_elements_text(coalesce(p_email->'message_id_candidates', '[]'))
             with ordinality as c(value, position)
      join halo.messages m on m.workspace_id = delivery.workspace_id
                          and m.email_message_id = c.value and m.ticket_id is not null
  loop
    select * into ticket from halo.tickets
     where id = halo.ticket_after_merges(candidate::uuid) and workspace_id = delivery.workspace_id;
    continue when ticket.id is null;
    if automatic or exists (
      select 1 from halo.contacts c where c.id = ticket.contact_id and lower(c.email) = sender
    ) or ticket.metadata->'participants' ? sender then
      found_ticket := ticket.id;
      exit;
    end if;
  end loop;

  if found_ticket is null and automatic then
    result := jsonb_build_object('result', 'ignored', 'kind', p_email->>'kind');
    update halo.inbound_emails set state = 'ignored', outcome = result, applied_at = now()
     where id = p_inbound_id;
    return result;
  end if;

  if not automatic then
    insert into halo.contacts (workspace_id, email, name)
    values (delivery.workspace_id, customer,
            nullif(coalesce(p_email->>'customer_name', p_email->>'from_name'), ''))
    on conflict (workspace_id, lower(email)) do update
      set last_seen_at = now(), name = coalesce(halo.contacts.name, excluded.name)
    returning id into contact;
  else
    select id into contact from halo.contacts
     where workspace_id = delivery.workspace_id and lower(email) = sender;
  end if;

  select coalesce(jsonb_agg(distinct lower(cc->>'email')), '[]') into participants
    from jsonb_array_elements(coalesce(p_email->'cc', '[]')) cc
   where lower(cc->>'email') <> customer;

  if found_ticket is null then
    -- With the activity the message trigger would set, so it has nothing left to update.
    insert into halo.tickets (workspace_id, subject, status_category, source, channel, contact_id,
                              last_activity_at, last_customer_message_at, waiting_since, metadata)
    values (delivery.workspace_id, left(coalesce(p_email->>'subject', ''), 500),
            case when coalesce((p_email->>'spam')::boolean, false) then 'spam' else 'open' end
              ::halo.ticket_status_category,
            'email', 'email', contact, now(), now(), now(),
            jsonb_build_object('participants', participants, 'inbound_address', delivery.recipient)
              || case when coalesce((p_email->>'spam')::boolean, false)
                      then jsonb_build_object('spam_reasons', p_email->'spam_reasons')
                      else '{}'::jsonb end)
    returning id into found_ticket;
  elsif jsonb_array_length(participants) > 0 then
    update halo.tickets t
       set metadata = jsonb_set(t.metadata, '{participants}', (
             select coalesce(jsonb_agg(distinct p), '[]')
               from jsonb_array_elements(coalesce(t.metadata->'participants', '[]') || participants) p))
     where t.id = found_ticket;
  end if;

  insert into halo.messages (ticket_id, kind, direction, author_kind, author_contact_id, body_text,
                             body_html, email_message_id, email_in_reply_to, email_references,
                             email_headers, attachments)
  values (found_ticket, 'email', 'inbound', 'customer', contact,
          left(coalesce(p_email->>'body_text', ''), 200000), left(p_email->>'body_html', 1000000),
          p_email->>'message_id', p_email->>'in_reply_to',
          array(select jsonb_array_elements_text(coalesce(p_email->'references', '[]'))),
          coalesce(p_email->'headers', '{}') || jsonb_build_object('halo_kind', p_email->>'kind'),
          coalesce(p_email->'attachments', '[]'))
  returning id into new_message;

  result := jsonb_build_object('result', 'applied', 'ticket_id', found_ticket,
                                'message_id', new_message, 'kind', p_email->>'kind');
  update halo.inbound_emails
     set state = 'applied', outcome = result, ticket_id = found_ticket, message_id = new_message,
         applied_at = now()
   where id = p_inbound_id;
  return result;
end
$$;
grant execute on function api.apply_inbound_email(uuid, jsonb) to service_role;

revoke execute on all functions in schema halo, api from public;
