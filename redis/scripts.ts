// The Lua scripts that keep the cluster's shared state consistent: each one
// checks and changes its keys atomically, with Redis's clock, so node clocks
// never matter. Keys are derived from the prefix inside the scripts, which is
// fine on one Redis (or a prefix with a {hash tag} on Redis Cluster).
//
// Layout (P is the prefix, `crosswire:` by default):
//   P nodes                 ZSET  node id -> lease expiry (ms)
//   P reaping               SET   dead nodes still being cleaned up
//   P names                 HASH  name key -> node \t session \t name \t token
//                                 (node empty while the name is held for a dropped user)
//   P holds                 ZSET  name key -> when its hold ends
//   P node:ID:names         SET   name keys held through node ID
//   P node:ID:rooms         SET   rooms where node ID has members
//   P p:ROOM:ID             ZSET  session -> join time, node ID's members of ROOM
//   P pn:ROOM:ID            HASH  session -> name, the same members' names
//   P roomnodes:ROOM        HASH  node id -> its member count in ROOM
//   P rooms                 ZSET  room -> members in the cluster (gone at 0)
//   P roomnames             ZSET  room -> 0, for listing rooms by name
// History and parked sessions: history_scripts.ts; moderation rulings: ruling_scripts.ts.
// Channels: P room:ROOM, P node:ID (private messages), P all (notices, rulings).

import { HISTORY_SCRIPTS } from "./history_scripts.ts";
import { RULING_SCRIPTS } from "./ruling_scripts.ts";

const COMMON = `
local P = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function live(node, t)
  local lease = redis.call('ZSCORE', P .. 'nodes', node)
  return lease and tonumber(lease) >= t
end
local function split(value)
  return string.match(value, '^([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)$')
end
-- Live members of ROOM: the count, and the first LIMIT names in join order.
local function presence(room, limit, t)
  local counts = redis.call('HGETALL', P .. 'roomnodes:' .. room)
  local total, entries = 0, {}
  for i = 1, #counts, 2 do
    local node = counts[i]
    if live(node, t) then
      total = total + tonumber(counts[i + 1])
      if limit > 0 then
        local z = redis.call('ZRANGE', P .. 'p:' .. room .. ':' .. node, 0, limit - 1, 'WITHSCORES')
        for j = 1, #z, 2 do entries[#entries + 1] = {tonumber(z[j + 1]), z[j], node} end
      end
    end
  end
  table.sort(entries, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  local out = {total}
  for k = 1, math.min(limit, #entries) do
    local e = entries[k]
    out[#out + 1] = redis.call('HGET', P .. 'pn:' .. room .. ':' .. e[3], e[2]) or '?'
  end
  return out
end
-- Takes SESSION out of ROOM's members on NODE; true when it was there.
local function leave(room, node, session)
  local removed = redis.call('ZREM', P .. 'p:' .. room .. ':' .. node, session)
  redis.call('HDEL', P .. 'pn:' .. room .. ':' .. node, session)
  if removed == 0 then return false end
  if redis.call('HINCRBY', P .. 'roomnodes:' .. room, node, -1) <= 0 then
    redis.call('HDEL', P .. 'roomnodes:' .. room, node)
    redis.call('SREM', P .. 'node:' .. node .. ':rooms', room)
  end
  if tonumber(redis.call('ZINCRBY', P .. 'rooms', -1, room)) <= 0 then
    redis.call('ZREM', P .. 'rooms', room)
    redis.call('ZREM', P .. 'roomnames', room)
  end
  return true
end
`;

/** ARGV: prefix, node, lease ms. Returns {status, live nodes, users, rooms}; status 0 ok, 1 new or lost (re-assert), 2 lapsed (re-assert), 3 being reaped. */
const HEARTBEAT = COMMON + `
local node, lease = ARGV[2], tonumber(ARGV[3])
local t = now()
if redis.call('SISMEMBER', P .. 'reaping', node) == 1 then return {3, 0, 0, 0} end
local old = redis.call('ZSCORE', P .. 'nodes', node)
redis.call('ZADD', P .. 'nodes', t + lease, node)
local status = 0
if not old then status = 1 elseif tonumber(old) < t then status = 2 end
local users = redis.call('HLEN', P .. 'names') - redis.call('ZCARD', P .. 'holds')
return {status, redis.call('ZCOUNT', P .. 'nodes', t, '+inf'), users, redis.call('ZCARD', P .. 'rooms')}
`;

/** ARGV: prefix. Returns {live nodes, users, rooms}. */
const COUNTS = COMMON + `
local users = redis.call('HLEN', P .. 'names') - redis.call('ZCARD', P .. 'holds')
return {redis.call('ZCOUNT', P .. 'nodes', now(), '+inf'), users, redis.call('ZCARD', P .. 'rooms')}
`;

/** ARGV: prefix, key, node, session, name, token. Returns {1} | {0, holder, held 0/1} | {-1} (this node's lease is not live). */
const CLAIM = COMMON + `
local key, node, session, name, token = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local t = now()
if not live(node, t) then return {-1} end
local value = redis.call('HGET', P .. 'names', key)
if value then
  local holder, held_session, shown, held_token = split(value)
  if held_session ~= session then
    if holder == '' then
      local ends = redis.call('ZSCORE', P .. 'holds', key)
      if ends and tonumber(ends) > t and held_token ~= token then return {0, shown, 1} end
      redis.call('ZREM', P .. 'holds', key)
    elseif live(holder, t) then
      return {0, shown, 0}
    else
      redis.call('SREM', P .. 'node:' .. holder .. ':names', key)
    end
  end
end
redis.call('HSET', P .. 'names', key, node .. '\\t' .. session .. '\\t' .. name .. '\\t' .. token)
redis.call('SADD', P .. 'node:' .. node .. ':names', key)
return {1}
`;

/** ARGV: prefix, key, session, hold ms (0: free at once). */
const RELEASE = COMMON + `
local key, session, hold = ARGV[2], ARGV[3], tonumber(ARGV[4])
local value = redis.call('HGET', P .. 'names', key)
if not value then return 0 end
local holder, held_session, shown, token = split(value)
if held_session ~= session or holder == '' then return 0 end
redis.call('SREM', P .. 'node:' .. holder .. ':names', key)
if hold > 0 then
  redis.call('HSET', P .. 'names', key, '\\t' .. held_session .. '\\t' .. shown .. '\\t' .. token)
  redis.call('ZADD', P .. 'holds', now() + hold, key)
else
  redis.call('HDEL', P .. 'names', key)
end
return 1
`;

/** ARGV: prefix, key. Returns {node, session, name} of a live holder, or {}. */
const FIND = COMMON + `
local value = redis.call('HGET', P .. 'names', ARGV[2])
if not value then return {} end
local holder, session, shown = split(value)
if holder == '' or not live(holder, now()) then return {} end
return {holder, session, shown}
`;

/**
 * ARGV: prefix, room, node, session, name, limit. Returns the presence after it:
 * {count, names...}, or {-1} while this node's lease is not live.
 */
const JOIN = COMMON + `
local room, node, session, name, limit = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local t = now()
-- A node whose lease ran out (and may have been reaped) must renew it first.
if not live(node, t) then return {-1} end
if redis.call('ZADD', P .. 'p:' .. room .. ':' .. node, 'NX', t, session) == 1 then
  redis.call('SADD', P .. 'node:' .. node .. ':rooms', room)
  redis.call('HINCRBY', P .. 'roomnodes:' .. room, node, 1)
  if tonumber(redis.call('ZINCRBY', P .. 'rooms', 1, room)) == 1 then
    redis.call('ZADD', P .. 'roomnames', 0, room)
  end
end
redis.call('HSET', P .. 'pn:' .. room .. ':' .. node, session, name)
return presence(room, limit, t)
`;

/** ARGV: prefix, room, node, session. Returns the live members left. */
const LEAVE = COMMON + `
local room = ARGV[2]
leave(room, ARGV[3], ARGV[4])
return presence(room, 0, now())[1]
`;

/** ARGV: prefix, room, node, session, name. */
const RENAME = COMMON + `
local key = P .. 'pn:' .. ARGV[2] .. ':' .. ARGV[3]
if redis.call('HEXISTS', key, ARGV[4]) == 1 then redis.call('HSET', key, ARGV[4], ARGV[5]) end
return 1
`;

/** ARGV: prefix, room, limit. Returns {count, names...}. */
const PRESENCE = COMMON + `
return presence(ARGV[2], tonumber(ARGV[3]), now())
`;

/** ARGV: prefix, limit, after ('' for the start). Returns {total, room, count, room, count...}. */
const ROOMS = COMMON + `
local after = ARGV[3]
local names = redis.call('ZRANGEBYLEX', P .. 'roomnames', after == '' and '-' or '(' .. after, '+',
  'LIMIT', 0, tonumber(ARGV[2]))
local out = {redis.call('ZCARD', P .. 'roomnames')}
for _, room in ipairs(names) do
  out[#out + 1] = room
  out[#out + 1] = tonumber(redis.call('ZSCORE', P .. 'rooms', room) or 0)
end
return out
`;

/**
 * ARGV: prefix, budget, node to reap now ('' for every node whose lease ran
 * out), quiet room size, silent ('1': publish nothing). Dead nodes move from
 * `nodes` to `reaping` inside the script, so exactly one caller in the cluster
 * gets each; then up to BUDGET entries are removed per call, and the rooms hear
 * that those users left; held names whose time ran out are freed too. Returns
 * {newly dead, nodes still reaping}.
 */
const REAP = COMMON + `
local budget, only, quiet, silent = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1'
local t = now()
-- Names kept for dropped users whose time ran out.
for _, key in ipairs(redis.call('ZRANGEBYSCORE', P .. 'holds', '-inf', t, 'LIMIT', 0, budget)) do
  redis.call('ZREM', P .. 'holds', key)
  local value = redis.call('HGET', P .. 'names', key)
  if value and string.sub(value, 1, 1) == '\\t' then redis.call('HDEL', P .. 'names', key) end
end
local dead = {}
if only ~= '' then
  redis.call('ZREM', P .. 'nodes', only)
  dead[1] = only
else
  dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', '(' .. string.format('%d', t), 'LIMIT', 0, 100)
  for _, node in ipairs(dead) do redis.call('ZREM', P .. 'nodes', node) end
end
for _, node in ipairs(dead) do redis.call('SADD', P .. 'reaping', node) end
-- A node reaping itself (leaving, or before it writes its state again) does only itself:
-- the other dead nodes' users must still be announced, by a normal step.
local todo = only ~= '' and dead or redis.call('SMEMBERS', P .. 'reaping')
local used = 0
for _, node in ipairs(todo) do
  if used >= budget then break end
  local names_key = P .. 'node:' .. node .. ':names'
  local mine = node .. '\\t'
  for _, key in ipairs(redis.call('SPOP', names_key, budget - used)) do
    local value = redis.call('HGET', P .. 'names', key)
    if value and string.sub(value, 1, #mine) == mine then redis.call('HDEL', P .. 'names', key) end
    used = used + 1
  end
  local rooms_key = P .. 'node:' .. node .. ':rooms'
  while used < budget do
    local room = redis.call('SPOP', rooms_key)
    if not room then break end
    local names = redis.call('HGETALL', P .. 'pn:' .. room .. ':' .. node)
    local gone = redis.call('ZCARD', P .. 'p:' .. room .. ':' .. node)
    redis.call('DEL', P .. 'p:' .. room .. ':' .. node, P .. 'pn:' .. room .. ':' .. node)
    redis.call('HDEL', P .. 'roomnodes:' .. room, node)
    local left = 0
    if gone > 0 then
      left = tonumber(redis.call('ZINCRBY', P .. 'rooms', -gone, room))
      if left <= 0 then
        redis.call('ZREM', P .. 'rooms', room)
        redis.call('ZREM', P .. 'roomnames', room)
      end
    end
    if not silent and left > 0 and left + 1 <= quiet then
      local events = {}
      for j = 2, #names, 2 do
        events[#events + 1] = {to = 'room', room = room,
          event = {type = 'left', ts = t, room = room, name = names[j], reason = 'disconnect'}}
        if #events == 200 or j == #names then
          redis.call('PUBLISH', P .. 'room:' .. room, cjson.encode({o = '', e = events}))
          events = {}
        end
      end
    end
    used = used + math.max(gone, 1)
  end
  if redis.call('SCARD', names_key) == 0 and redis.call('SCARD', rooms_key) == 0 then
    redis.call('SREM', P .. 'reaping', node)
  end
end
return {#dead, redis.call('SCARD', P .. 'reaping')}
`;

/** Every script, by the command name it gets on the client. */
export const SCRIPTS = {
  ...HISTORY_SCRIPTS,
  ...RULING_SCRIPTS,
  cwHeartbeat: HEARTBEAT,
  cwCounts: COUNTS,
  cwClaim: CLAIM,
  cwRelease: RELEASE,
  cwFind: FIND,
  cwJoin: JOIN,
  cwLeave: LEAVE,
  cwRename: RENAME,
  cwPresence: PRESENCE,
  cwRooms: ROOMS,
  cwReap: REAP,
} as const;

/** A script's name. */
export type ScriptName = keyof typeof SCRIPTS;
