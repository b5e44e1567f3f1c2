// Auth flows through supabase-js against the local stack. Prints one JSON summary line that
// tests/stack/test_auth_js.py asserts on. Usage: node auth.mjs <client address> <email prefix>
import { createClient } from '@supabase/supabase-js';

const [address, prefix] = process.argv.slice(2);
const url = process.env.SUPABASE_URL;
// Auth never opens the Realtime socket; Node 20 has no global WebSocket, so hand the client an
// inert constructor instead of installing one.
class NoWebSocket {}
const options = {
  auth: { persistSession: false, autoRefreshToken: false },
  realtime: { transport: NoWebSocket },
  global: { headers: { 'X-Forwarded-For': address } },
};
const client = () => createClient(url, process.env.SUPABASE_ANON_KEY, options);
const admin = createClient(url, process.env.SUPABASE_SERVICE_ROLE_KEY, options).auth.admin;
const describe = (error) => error && { name: error.name, status: error.status, code: error.code };
const claimsOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

const email = `${prefix}-js@example.com`;
const password = 'correct-horse-1';
const out = {};

const app = client();
const signUp = await app.auth.signUp({ email, password, options: { data: { full_name: 'Lin' } } });
out.signUp = { error: describe(signUp.error), hasSession: !!signUp.data.session,
  metadata: signUp.data.user?.user_metadata };
out.claims = claimsOf(signUp.data.session.access_token);

const again = await client().auth.signUp({ email, password });
out.repeatedSignUp = describe(again.error);
const weak = await client().auth.signUp({ email: `weak-${email}`, password: 'abc' });
out.weakPassword = { ...describe(weak.error), reasons: weak.error?.reasons };

const signIn = await app.auth.signInWithPassword({ email, password });
out.signIn = { error: describe(signIn.error), userId: signIn.data.user?.id };
const wrong = await client().auth.signInWithPassword({ email, password: 'nope-nope-nope' });
out.wrongPassword = describe(wrong.error);

const before = signIn.data.session.refresh_token;
const refreshed = await app.auth.refreshSession();
out.refresh = { error: describe(refreshed.error), rotated: refreshed.data.session?.refresh_token !== before };

const got = await app.auth.getUser();
out.getUser = { error: describe(got.error), email: got.data.user?.email };
const updated = await app.auth.updateUser({ data: { team: 'billing' } });
out.updateUser = { error: describe(updated.error), team: updated.data.user?.user_metadata?.team };

const forged = await client().auth.getUser(signIn.data.session.access_token.slice(0, -4) + 'AAAA');
out.forgedToken = describe(forged.error);

const anon = await client().auth.signInAnonymously();
out.anonymous = { error: describe(anon.error), isAnonymous: anon.data.user?.is_anonymous };

const notAdmin = await client().auth.admin.listUsers();
out.anonAdmin = describe(notAdmin.error);
const listed = await admin.listUsers({ page: 1, perPage: 1 });
out.adminList = { error: describe(listed.error), count: listed.data.users.length,
  total: listed.data.total, nextPage: listed.data.nextPage, lastPage: listed.data.lastPage };
const created = await admin.createUser({ email: `admin-${email}`, password, email_confirm: true });
out.adminCreate = { error: describe(created.error), confirmed: !!created.data.user?.email_confirmed_at };
const deleted = await admin.deleteUser(created.data.user.id);
out.adminDelete = describe(deleted.error);

const signOut = await app.auth.signOut({ scope: 'global' });
out.signOut = describe(signOut.error);
const afterSignOut = await client().auth.refreshSession({ refresh_token: refreshed.data.session.refresh_token });
out.refreshAfterSignOut = describe(afterSignOut.error);

console.log(JSON.stringify(out));
