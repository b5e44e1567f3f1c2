-- Functions callable at /rpc/<name> in the exposed schemas.
select p.oid::int8 as oid,
       n.nspname as schema,
       p.proname as name,
       p.provolatile::text as volatility,
       p.proretset as returns_set,
       p.pronargdefaults as defaults,
       p.provariadic <> 0 as variadic,
       coalesce(p.proargnames, '{}') as arg_names,
       coalesce(p.proargmodes::text[], '{}') as arg_modes,
       array(select format_type(x, null)
               from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(x, i)
              order by i) as arg_types,
       format_type(p.prorettype, null) as return_type,
       rt.typtype::text as return_kind,
       nullif(rt.typrelid, 0)::int8 as return_relation,
       obj_description(p.oid, 'pg_proc') as description,
       p.prosrc ~ 'response\.(headers|status)' as sets_response
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
  join pg_type rt on rt.oid = p.prorettype
 where n.nspname = any($1::text[])
   and p.prokind = 'f'
