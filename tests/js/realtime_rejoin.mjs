// supabase-js rejoins by itself after the gateway restarts. argv[2]: vsn; argv[3]: channel name.
// Prints {"ready": true} once subscribed; the Python test restarts the gateway and then keeps
// broadcasting "after" from the database until this script has heard one.
import { createClient } from '@supabase/supabase-js'

// Node 20's experimental WebSocket fires `error` but never `close` when a connection attempt is
// refused (browsers and Node 22 fire both), and Phoenix only schedules a reconnect on `close`.
// This transport adds the missing event; realtime-js takes it through its `transport` option.
class SpecWebSocket extends WebSocket {
  constructor(...args) {
    super(...args)
    let opened = false
    this.addEventListener('open', () => { opened = true })
    this.addEventListener('error', () => {
      if (!opened) setTimeout(() => this.onclose?.({ type: 'close', code: 1006, reason: '', wasClean: false }), 0)
    })
  }
}

const [vsn, name] = process.argv.slice(2)
const client = createClient(process.env.SUPABASE_URL, process.env.SUPABASE_ANON_KEY, {
  realtime: { vsn, transport: SpecWebSocket },
})
const statuses = []
let heard = null
const channel = client.channel(name).on('broadcast', { event: 'after' }, (m) => { heard = m.payload })
await new Promise((resolve) => channel.subscribe((status) => {
  statuses.push(status)
  if (status === 'SUBSCRIBED') resolve()
}))
console.log(JSON.stringify({ ready: true }))
const end = Date.now() + 45000
while (!heard && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
console.log(JSON.stringify({ statuses, heard }))
process.exit(0)
