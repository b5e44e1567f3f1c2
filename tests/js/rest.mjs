// REST service through supabase-js: node rest.mjs <schema> <token of user A> <token of user B>
// Prints one JSON object: each check's name → what supabase-js returned (data, count, error code).
import { createClient } from '@supabase/supabase-js'

const [schema, tokenA, tokenB] = process.argv.slice(2)
const url = process.env.SUPABASE_URL
// Node 20 has no WebSocket; these checks never open the realtime socket, so a stub transport will do.
class NoWebSocket {}
const options = (token) => ({
  db: { schema },
  realtime: { transport: NoWebSocket },
  auth: { persistSession: false, autoRefreshToken: false },
  global: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
})
const alice = createClient(url, process.env.SUPABASE_ANON_KEY, options(tokenA))
const bob = createClient(url, process.env.SUPABASE_ANON_KEY, options(tokenB))
const anon = createClient(url, process.env.SUPABASE_ANON_KEY, options(null))
const service = createClient(url, process.env.SUPABASE_SERVICE_ROLE_KEY, options(null))

const out = {}
const shape = ({ data, error, count, status }) => ({ data, count, status, code: error ? error.code : null })
async function check(name, query) {
  out[name] = shape(await query)
}

await check('own_rows', alice.from('projects').select('name').order('id'))
await check('other_rows', bob.from('projects').select('name'))
await check('anon_notes', anon.from('notes').select('body'))
await check('anon_projects', anon.from('projects').select('*'))
await check('service_all', service.from('projects').select('name').in('id', [1, 2, 3]).order('id'))
await check('filters', service.from('projects').select('name')
  .gte('score', 7).like('name', '%a').not('name', 'eq', 'zzz').order('name'))
await check('or_nested', service.from('projects').select('name')
  .or('name.eq.apollo,and(score.gte.7,score.lte.7)').order('name'))
await check('text_search', service.from('projects').select('name').textSearch('name', "'alpha' | 'beta'").order('name'))
await check('embed', alice.from('projects')
  .select('name, owner:profiles(name), tasks(title, labels(name))')
  .eq('id', 1).order('id', { referencedTable: 'tasks' }).order('name', { referencedTable: 'tasks.labels' }))
await check('inner', alice.from('projects').select('name, tasks!inner(title)').eq('tasks.title', 'plan'))
await check('count_range', service.from('labels').select('id', { count: 'exact' }).order('id').range(0, 1))
await check('head_count', service.from('labels').select('*', { count: 'exact', head: true }))
await check('single', alice.from('projects').select('name').eq('id', 1).single())
await check('single_none', alice.from('projects').select('name').eq('id', 3).single())
await check('maybe_single', alice.from('projects').select('name').eq('id', 3).maybeSingle())
await check('csv', alice.from('projects').select('id,name').order('id').csv())

const inserted = await alice.from('projects').insert({ name: 'js-project', score: 4 }).select('id, name, owner_id').single()
out.insert = shape(inserted)
const id = inserted.data && inserted.data.id
await check('insert_minimal', alice.from('projects').insert({ name: 'js-minimal' }))
await check('update', alice.from('projects').update({ status: 'done' }).eq('id', id).select('status'))
await check('bob_update', bob.from('projects').update({ name: 'hacked' }).eq('id', id).select())
await check('bob_insert_forged', bob.from('projects').insert({ name: 'forged', owner_id: inserted.data.owner_id }))
await check('upsert', alice.from('projects')
  .upsert({ owner_id: inserted.data.owner_id, name: 'js-project', score: 9 }, { onConflict: 'owner_id,name' })
  .select('id, score'))
await check('rollback', alice.from('projects').insert({ name: 'js-rollback' }).select('name').rollback())
await check('after_rollback', alice.from('projects').select('name').eq('name', 'js-rollback'))
await check('delete', alice.from('projects').delete().in('name', ['js-project', 'js-minimal']).select('name'))

await check('rpc_scalar', alice.rpc('add', { a: 1, b: 2 }))
await check('rpc_get', alice.rpc('add', { a: 5 }, { get: true }))
await check('rpc_set', alice.rpc('numbers', { n: 4 }, { count: 'exact' }).range(1, 2))
await check('rpc_table', alice.rpc('projects_of', { owner: inserted.data.owner_id }).select('name').eq('name', 'apollo'))
await check('rpc_head', alice.rpc('numbers', { n: 3 }, { head: true, count: 'exact' }))
await check('rpc_missing', alice.rpc('missing_fn'))
await check('bad_schema', alice.schema('secret').from('labels').select('*'))
await check('ambiguous', alice.from('tasks').select('title, profiles(name)'))

console.log(JSON.stringify(out))
