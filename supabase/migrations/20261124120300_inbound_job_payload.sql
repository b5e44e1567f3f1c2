-- The email.inbound job carries where its delivery's bytes are (provider, storage path, format),
-- so the worker downloads them at once instead of first reading the delivery row: one request
-- less per email on the ingest path (measured by `halo bench ingest`).

create or replace function api.receive_inbound_email(
  p_provider text,
  p_recipient text,
  p_storage_path text,
  p_payload_format text,
  p_size_bytes integer,
  p_provider_message_id text default null,
  p_token text default null,
  p_token_ttl_seconds integer default 600
) returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  delivery_id uuid;
  workspace uuid;
begin
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
                                   storage_path, payload_format, size_bytes,
                                   state)
  values (workspace, p_provider, p_provider_message_id, p_recipient, p_storage_path,
          p_payload_format, p_size_bytes, case when workspace is null then 'unroutable' else 'received' end)
  on conflict (provider, provider_message_id) where provider_message_id is not null do nothing
  returning id into delivery_id;
  if delivery_id is null then
    select id into delivery_id from halo.inbound_emails
     where provider = p_provider and provider_message_id = p_provider_message_id;
    return jsonb_build_object('id', delivery_id, 'duplicate', true);
  end if;
  if workspace is not null then
    perform halo.enqueue_job('email.inbound',
                             jsonb_build_object('inbound_id', delivery_id, 'provider', p_provider,
                                                'storage_path', p_storage_path,
                                                'payload_format', p_payload_format),
                             'inbound:' || delivery_id, workspace);
  end if;
  return jsonb_build_object('id', delivery_id, 'duplicate', false, 'routed', workspace is not null);
end
$$;

revoke execute on all functions in schema halo, api from public;
