-- Search: full-text search of a workspace's tickets over the subject, the contact's name and
-- email, and message text, ranked; the list function combines it with any view and filter.

-- helpers -----------------------------------------------------------------------------------------

-- Full-text search of a workspace's tickets: subject, the contact's name and email, message text
-- ('simple' configuration, web-search syntax). Security definer because `@@` is not leakproof:
-- behind RLS PostgreSQL may not use the GIN indexes for it and scanned every message (7.5 s on
-- 3M messages); here it checks the caller's Inbox: View permission once and uses the indexes.
-- A query of only very common words yields the 500 most recently active matches.
create function halo.search_ticket_ids(p_workspace_id uuid, p_search text) returns setof uuid
language plpgsql stable
security definer
rows 100
set search_path = ''
as $$
declare
  query tsquery := websearch_to_tsquery('simple', p_search);
begin
  if not halo.has_inbox_permission(p_workspace_id, 'view') then
    raise exception 'searching workspace % needs Inbox: View permission there', p_workspace_id
      using errcode = '42501';
  end if;
  -- Words in a large share of messages ("screenshot") would fetch all those messages from the
  -- index; then the most recently active matching tickets are found by walking the tickets.
  -- "Common" = every word is among the index's most common lexemes with a frequency of 0.2% or
  -- more (ANALYZE statistics of messages_body_fts_idx; without them, nothing is common).
  if (select bool_and(coalesce(s.most_common_elem_freqs[array_position(s.most_common_elems::text::text[], w.word)], 0) >= 0.002)
        from unnest(tsvector_to_array(to_tsvector('simple', p_search))) w(word)
        left join pg_catalog.pg_stats s on s.schemaname = 'halo' and s.tablename = 'messages_body_fts_idx') then
    return query
      select t.id from halo.tickets t
       where t.workspace_id = p_workspace_id
         and (to_tsvector('simple', t.subject) @@ query
              -- offset 0 keeps this a per-ticket probe (not a hash of every matching message)
              or exists (select 1 from halo.messages m
                          where m.ticket_id = t.id and m.kind <> 'system'
                            and to_tsvector('simple', coalesce(m.body_text, '')) @@ query offset 0)
              or t.contact_id in (select c.id from halo.contacts c
                                   where c.workspace_id = p_workspace_id
                                     and to_tsvector('simple', coalesce(c.name, '') || ' ' || coalesce(c.email, '')) @@ query))
       order by t.last_activity_at desc
       limit 500;
    return;
  end if;
  return query
    select t.id from halo.tickets t
     where t.workspace_id = p_workspace_id and to_tsvector('simple', t.subject) @@ query
    union
    select m.ticket_id from halo.messages m
     where m.workspace_id = p_workspace_id and m.kind <> 'system' and m.ticket_id is not null
       and to_tsvector('simple', coalesce(m.body_text, '')) @@ query
    union
    select t.id from halo.tickets t
     where t.workspace_id = p_workspace_id
       and t.contact_id in (select c.id from halo.contacts c
                             where c.workspace_id = p_workspace_id
                               and to_tsvector('simple', coalesce(c.name, '') || ' ' || coalesce(c.email, '')) @@ query);
end
$$;
grant execute on function halo.search_ticket_ids(uuid, text) to authenticated, service_role;

-- PUBLIC may execute new functions by default (schemas.sql says why); the grants above are all.
revoke execute on all functions in schema halo, api from public;
