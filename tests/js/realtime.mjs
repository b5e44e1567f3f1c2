// Realtime through supabase-js, for one protocol version (argv[2]: "1.0.0" or "2.0.0").
// argv[3..6]: a user's id, that user's JWT, another user's JWT, a second JWT of the first user.
// Prints {"ready": true} once every channel is subscribed; the Python test then writes rows; the
// last line is the JSON of everything observed.
import { createClient } from '@supabase/supabase-js'

const [vsn, userId, userToken, strangerToken, refreshedToken] = process.argv.slice(2)
const url = process.env.SUPABASE_URL
const anon = process.env.SUPABASE_ANON_KEY

const client = (token) =>
  createClient(url, anon, {
    realtime: { vsn },
    ...(token ? { accessToken: async () => token } : {}),
  })

const subscribed = (channel) =>
  new Promise((resolve) => channel.subscribe((status, err) => {
    if (status !== 'SUBSCRIBED' || !err) resolve({ status, error: err ? String(err.message ?? err) : null })
  }))

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const until = async (check, ms = 5000) => {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) await sleep(20)
}

const topic = `js-${vsn}-${Math.random().toString(36).slice(2, 8)}`
const out = { vsn }

// Broadcast with ack and self.
const alice = client()
const bob = client()
const heard = []
const mine = []
const a = alice.channel(topic, { config: { broadcast: { ack: true, self: true }, presence: { key: 'alice' } } })
a.on('broadcast', { event: 'ping' }, (m) => mine.push(m.payload))
const b = bob.channel(topic, { config: { presence: { key: 'bob' } } })
b.on('broadcast', { event: 'ping' }, (m) => heard.push(m.payload))
const joins = []
const leaves = []
let lastSync = null
b.on('presence', { event: 'join' }, ({ key, newPresences }) => joins.push({ key, newPresences }))
b.on('presence', { event: 'leave' }, ({ key, leftPresences }) => leaves.push({ key, leftPresences }))
b.on('presence', { event: 'sync' }, () => { lastSync = b.presenceState() })
out.subscribe = [(await subscribed(a)).status, (await subscribed(b)).status]
out.ack = await a.send({ type: 'broadcast', event: 'ping', payload: { n: 1 } })
await until(() => heard.length >= 1 && mine.length >= 1)
out.heard = heard
out.self = mine

// Presence: track, update, untrack.
out.track = await a.track({ status: 'online' })
await until(() => joins.length >= 1)
out.syncAfterTrack = lastSync
out.untrack = await a.untrack()
await until(() => leaves.length >= 1)
out.joins = joins
out.leaves = leaves

// Private channel: the owner joins, a stranger is refused.
const owner = client(userToken)
const stranger = client(strangerToken)
// The accessToken callback reaches Realtime asynchronously; make sure joins carry the user's JWT.
await owner.realtime.setAuth(userToken)
await stranger.realtime.setAuth(strangerToken)
const privateTopic = `rtfx:owner:${userId}`
const dbBroadcasts = []
const ownChannel = owner.channel(privateTopic, { config: { private: true } })
ownChannel.on('broadcast', { event: 'INSERT' }, (m) => dbBroadcasts.push(m.payload))
const systemMessages = []
ownChannel.on('system', {}, (m) => systemMessages.push(m))
out.privateOwner = await subscribed(ownChannel)
out.privateStranger = await subscribed(stranger.channel(privateTopic, { config: { private: true } }))

// Postgres Changes with a filter, under the user's RLS.
const changes = []
const changesChannel = owner
  .channel(`${topic}-changes`)
  .on('postgres_changes', { event: 'INSERT', schema: 'rtfx', table: 'notes', filter: 'priority=gt.5' }, (c) => changes.push(c))
out.changesSubscribe = await subscribed(changesChannel)

console.log(JSON.stringify({ ready: true }))
await until(() => changes.length >= 1 && dbBroadcasts.length >= 2)
await sleep(300)
out.changes = changes.map((c) => ({ eventType: c.eventType, table: c.table, schema: c.schema, new: c.new, errors: c.errors }))
out.dbBroadcasts = dbBroadcasts.map((p) => ({ operation: p.operation, priority: p.record.priority }))

// Token refresh: the same user's new token keeps the private channel; another user's token (who
// may not read the topic) gets a system error and the channel closed.
await owner.realtime.setAuth(refreshedToken)
await sleep(300)
out.stateAfterRefresh = ownChannel.state
await owner.realtime.setAuth(strangerToken)
await until(() => ownChannel.state === 'closed')
out.stateAfterForeignToken = ownChannel.state
out.systemErrors = systemMessages.filter((m) => m.status === 'error').map((m) => m.message)

for (const c of [alice, bob, owner, stranger]) await c.removeAllChannels()
console.log(JSON.stringify(out))
process.exit(0)
