-- Small deliveries are stored in the database instead of Storage: the edge function passes the
-- raw text (MIME or Postmark JSON, valid UTF-8, at most 64 KiB) as p_raw, and it is kept in
-- halo.inbound_emails.raw_inline and carried by the `email.inbound` job's payload. Still stored
-- durably before the 2xx (in the same transaction as the delivery row and its job), but with no
-- Storage upload in the function and no download in the worker: two gateway requests (four
-- transactions) less per email, measured by `halo bench ingest`. Larger, binary or form
-- deliveries (files) keep going to the `inbound-email` bucket.

-- tables ------------------------------------------------------------------------------------------

alter table halo.inbound_emails
  alter column storage_path drop not null,
  add column raw_inline text check (octet_length(raw_inline) <= 65536),
  add constraint inbound_emails_stored_once check (num_nonnulls(storage_path, raw_inline) = 1);

-- API objects -------------------------------------------------------------------------------------

drop function api.receive_inbound_email(text, text, text, text, integer, text, text, integer);

create function api.receive_inbound_email(
  p_provider text,
  p_recipient text,
  p_storage_path text,
  p_payload_format text,
  p_size_bytes integer,
  p_provider_message_id text default null,
  p_token text default null,
  p_token_ttl_seconds integer default 600,
  p_raw text default null
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  delivery_id uuid;
  workspace uuid;
begin
  if num_nonnulls(p_storage_path, p_raw) <> 1 then
    raise exception 'pass either p_storage_path (bytes in Storage) or p_raw (the payload inline)'
      using errcode = '22023';
  end if;
  if octet_length(p_raw) > 65536 then
    raise exception 'p_raw is % bytes; payloads over 64 KiB go to Storage (p_storage_path)',
      octet_length(p_raw) using errcode = '22023';
  end if;
  if p_raw is not null and p_payload_format = 'form' then
    raise exception 'form payloads (with files) go to Storage (p_storage_path)'
      using errcode = '22023';
  end if;
  if p_token is not null then
    delete from halo.webhook_tokens where expires_at < now();
    insert into halo.webhook_tokens (token, expires_at)
    values (p_token, now() + make_interval(secs => p_token_ttl_seconds))
    on conflict (token) do nothing;
    if not found then
      raise exception 'webhook token already used' using errcode = '23505',
        hint = 'A replayed webhook; the original delivery was stored.';
    end if;
  end if;
  select workspace_id into workspace from halo.inbound_addresses
   where lower(address) = lower(btrim(p_recipient, ' <>'));
  -- A reply address (reply+<ticket hex>-<mac>@…) routes to its ticket's workspace; the worker
  -- verifies the MAC with the workspace's secrets before it threads anything by it.
  if workspace is null then
    select t.workspace_id into workspace from halo.tickets t
     where t.id = (substring(lower(p_recipient) from '^<?reply\+([0-9a-f]{32})-[0-9a-f]{16}@'))::uuid;
  end if;
  insert into halo.inbound_emails (workspace_id, provider, provider_message_id, recipient,
                                   storage_path, raw_inline, payload_format, size_bytes, state)
  values (workspace, p_provider, p_provider_message_id, p_recipient, p_storage_path, p_raw,
          p_payload_format, p_size_bytes,
          case when workspace is null then 'unroutable' else 'received' end)
  on conflict (provider, provider_message_id) where provider_message_id is not null do nothing
  returning id into delivery_id;
  if delivery_id is null then
    select id into delivery_id from halo.inbound_emails
     where provider = p_provider and provider_message_id = p_provider_message_id;
    return jsonb_build_object('id', delivery_id, 'duplicate', true);
  end if;
  if workspace is not null then
    perform halo.enqueue_job('email.inbound',
                             jsonb_strip_nulls(jsonb_build_object(
                               'inbound_id', delivery_id, 'provider', p_provider,
                               'storage_path', p_storage_path, 'raw', p_raw,
                               'payload_format', p_payload_format)),
                             'inbound:' || delivery_id, workspace);
  end if;
  return jsonb_build_object('id', delivery_id, 'duplicate', false, 'routed', workspace is not null);
end
$$;
grant execute on function
  api.receive_inbound_email(text, text, text, text, integer, text, text, integer, text)
  to service_role;

revoke execute on all functions in schema halo, api from public;
