// The Lua scripts for history and resume. A message is kept in its stream and
// published in one script, so it is either in the history and on its way to
// every node, or neither; its offset comes from the stream, so every node
// delivers a stream's messages in one order.
//
// Layout (P is the prefix):
//   P h:STREAM          HASH    epoch, offset (the latest), total (bytes ever kept)
//   P s:STREAM          STREAM  entry id OFFSET-0: e (the envelope's JSON), t (ms), b (bytes),
//                               c (total after it, so the bytes kept are total - c_first + b_first)
//   P park:TOKEN        STRING  deadline (ms) | a parked session (JSON), expiring a minute after
// STREAM is `r:ROOM` or `u:SESSION`. The hash outlives the stream (an hour at
// least), so a quiet room keeps its epoch and a client that missed nothing is told so.

const COMMON = `
local P = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function epoch_of(meta)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    local t = redis.call('TIME')
    epoch = string.format('%x%x', tonumber(t[1]) % 1048576, tonumber(t[2]))
    redis.call('HSET', meta, 'epoch', epoch, 'offset', 0, 'total', 0)
  end
  return epoch
end
-- Drops entries too old, too many bytes, at most BUDGET of them.
local function trim(key, total, bytes, oldest, budget)
  for _ = 1, budget do
    local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
    if not first then return end
    local f = {}
    for i = 1, #first[2], 2 do f[first[2][i]] = first[2][i + 1] end
    local kept = total - tonumber(f.c) + tonumber(f.b)
    if tonumber(f.t) > oldest and kept <= bytes then return end
    redis.call('XDEL', key, first[1])
  end
end
`;

/**
 * ARGV: prefix, stream, channel, origin node, size (the stream's own: a room's
 * rules may say), ttl ms, bytes, then for each message: its envelope's JSON and
 * its size. Keeps each (unless size is 0: then whatever the stream kept goes
 * too), then publishes them all in one payload: {"o":node,"p":epoch,"f":first
 * offset,"e":[envelopes]}. Returns {epoch, first offset}.
 */
const APPEND = COMMON + `
local stream, channel, node = ARGV[2], ARGV[3], ARGV[4]
local size, ttl, bytes = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local meta, key = P .. 'h:' .. stream, P .. 's:' .. stream
local t = now()
local epoch = epoch_of(meta)
local offset = tonumber(redis.call('HGET', meta, 'offset'))
local total = tonumber(redis.call('HGET', meta, 'total'))
local first = offset + 1
local envelopes = {}
for i = 8, #ARGV, 2 do
  offset = offset + 1
  envelopes[#envelopes + 1] = ARGV[i]
  if size > 0 then
    local b = tonumber(ARGV[i + 1])
    total = total + b
    redis.call('XADD', key, 'MAXLEN', '~', size, offset .. '-0',
      'e', ARGV[i], 't', t, 'b', b, 'c', total)
  end
end
redis.call('HSET', meta, 'offset', offset, 'total', total)
redis.call('PEXPIRE', meta, math.max(ttl, 3600000))
if size > 0 then
  trim(key, total, bytes, t - ttl, 2 * size + 8)
  redis.call('PEXPIRE', key, ttl)
else
  redis.call('DEL', key)
end
redis.call('PUBLISH', channel, '{"o":"' .. node .. '","p":"' .. epoch .. '","f":' .. first ..
  ',"e":[' .. table.concat(envelopes, ',') .. ']}')
return {epoch, first}
`;

/**
 * ARGV: prefix, stream, since offset (-1: none), since epoch, limit, ttl ms,
 * size (the stream's; optional). Returns {epoch, latest offset, recovered 0/1,
 * first offset asked for, then offset and envelope JSON of each message}: the
 * messages after since when all are kept (at most limit), else the latest
 * limit. Appends trim to about `size` (MAXLEN ~, which is cheap); a read shows
 * no more than `size` of the latest, so a stream keeps exactly its size.
 */
const HISTORY = COMMON + `
local stream, since, since_epoch = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local limit, ttl, size = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local meta, key = P .. 'h:' .. stream, P .. 's:' .. stream
local t = now()
local epoch = epoch_of(meta)
redis.call('PEXPIRE', meta, math.max(ttl, 3600000))
local latest = tonumber(redis.call('HGET', meta, 'offset'))
local total = tonumber(redis.call('HGET', meta, 'total'))
trim(key, total, 1e18, t - ttl, 1000)
local first = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)[1]
local first_kept = latest + 1
if first then first_kept = tonumber(string.match(first[1], '^(%d+)')) end
if size then first_kept = math.max(first_kept, latest - size + 1) end
local recovered = 0
local from = math.max(latest - limit + 1, first_kept)
if since >= 0 and since_epoch == epoch and since <= latest and latest - since <= limit
  and since + 1 >= first_kept then
  recovered = 1
  from = since + 1
end
local out = {epoch, latest, recovered, from}
if from <= latest and limit > 0 then
  for _, entry in ipairs(redis.call('XRANGE', key, from .. '-0', '+')) do
    for i = 1, #entry[2], 2 do
      if entry[2][i] == 'e' then
        out[#out + 1] = tonumber(string.match(entry[1], '^(%d+)'))
        out[#out + 1] = entry[2][i + 1]
      end
    end
  end
end
return out
`;

/** ARGV: prefix, stream. Forgets a stream (a session ended). */
const DROP = `
redis.call('DEL', ARGV[1] .. 'h:' .. ARGV[2], ARGV[1] .. 's:' .. ARGV[2])
return 1
`;

/**
 * ARGV: prefix, token, parked JSON, ms. Kept a minute past its window, so the
 * node that parked it still finds it there to end it (a resume after the
 * window is refused by the deadline, not by the key's expiry).
 */
const PARK = `
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[4])
redis.call('SET', ARGV[1] .. 'park:' .. ARGV[2], string.format('%d', deadline) .. '|' .. ARGV[3],
  'PX', tonumber(ARGV[4]) + 60000)
return 1
`;

/**
 * ARGV: prefix, token, this node. Takes a parked session: its name and its
 * room memberships move to this node (nobody is told: it never left), and the
 * node that parked it hears so on its channel. Returns {} when nothing is
 * parked, {0} when its name was lost meanwhile (left parked), {-1} while this
 * node's lease is not live, else {parked JSON, rooms still a member of...}.
 */
const UNPARK = `
local P, token, node = ARGV[1], ARGV[2], ARGV[3]
local t = redis.call('TIME')
t = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = redis.call('ZSCORE', P .. 'nodes', node)
if not lease or tonumber(lease) < t then return {-1} end
local value = redis.call('GET', P .. 'park:' .. token)
if not value then return {} end
local deadline, json = string.match(value, '^(%d+)|(.*)$')
if tonumber(deadline) <= t then return {} end
local parked = cjson.decode(json)
local old, session = parked.node, parked.session
local out = {json}
if old == node then
  redis.call('DEL', P .. 'park:' .. token)
  for _, room in ipairs(parked.rooms) do out[#out + 1] = room end
  return out
end
local value = redis.call('HGET', P .. 'names', parked.key)
local mine = old .. '\\t' .. session .. '\\t'
if not value or string.sub(value, 1, #mine) ~= mine then return {0} end
redis.call('DEL', P .. 'park:' .. token)
redis.call('HSET', P .. 'names', parked.key, node .. string.sub(value, #old + 1))
redis.call('SREM', P .. 'node:' .. old .. ':names', parked.key)
redis.call('SADD', P .. 'node:' .. node .. ':names', parked.key)
for _, room in ipairs(parked.rooms) do
  local score = redis.call('ZSCORE', P .. 'p:' .. room .. ':' .. old, session)
  if score then
    redis.call('ZREM', P .. 'p:' .. room .. ':' .. old, session)
    redis.call('HDEL', P .. 'pn:' .. room .. ':' .. old, session)
    if redis.call('HINCRBY', P .. 'roomnodes:' .. room, old, -1) <= 0 then
      redis.call('HDEL', P .. 'roomnodes:' .. room, old)
      redis.call('SREM', P .. 'node:' .. old .. ':rooms', room)
    end
    redis.call('ZADD', P .. 'p:' .. room .. ':' .. node, score, session)
    redis.call('HSET', P .. 'pn:' .. room .. ':' .. node, session, parked.name)
    redis.call('HINCRBY', P .. 'roomnodes:' .. room, node, 1)
    redis.call('SADD', P .. 'node:' .. node .. ':rooms', room)
    out[#out + 1] = room
  end
end
redis.call('PUBLISH', P .. 'node:' .. old, '{"o":"","e":[],"r":' .. cjson.encode(session) .. '}')
return out
`;

/** ARGV: prefix, token. Returns 1 when the session was still parked (and is no more). */
const EXPIRE = `
return redis.call('DEL', ARGV[1] .. 'park:' .. ARGV[2])
`;

/** The history and resume scripts, by the command name each gets on the client. */
export const HISTORY_SCRIPTS = {
  cwAppend: APPEND,
  cwHistory: HISTORY,
  cwDropStream: DROP,
  cwPark: PARK,
  cwUnpark: UNPARK,
  cwExpire: EXPIRE,
} as const;
