// The Lua scripts for moderation rulings. A ruling is kept (or lifted) and
// published in one script, so the hash and what the nodes hear never
// disagree, and every node hears a key's rulings in the order they were kept.
//
// Layout (P is the prefix):
//   P rulings           HASH    rulingKey -> the ruling's JSON (bans and mutes until their
//                               `until`, topics until cleared; kicks are never kept), and
//                               `~` -> the hash's generation (made by the first read)
// Rulings are published on P all, in a payload's `u` field (see codec.ts).

/**
 * ARGV: prefix, channel, payload, then for each kept ruling its key and its
 * JSON ('' to remove the key: lifted, or cleared). Keeps them in order, then
 * publishes the payload. Returns 1.
 */
const RULE = `
local P, channel, payload = ARGV[1], ARGV[2], ARGV[3]
for i = 4, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', P .. 'rulings', ARGV[i])
  else
    redis.call('HSET', P .. 'rulings', ARGV[i], ARGV[i + 1])
  end
end
redis.call('PUBLISH', channel, payload)
return 1
`;

/**
 * ARGV: prefix, now (ms, the reading node's clock, which set the rulings'
 * ends). Removes bans and mutes that are over (and anything that is not a
 * ruling's JSON); returns the hash's generation, then the JSON of the rest.
 * The generation is made when missing: a node that finds another one than it
 * read before knows Redis lost the hash (it restarted empty).
 */
const RULINGS = `
local key, now = ARGV[1] .. 'rulings', tonumber(ARGV[2])
local generation = redis.call('HGET', key, '~')
if not generation then
  local t = redis.call('TIME')
  generation = string.format('%x%x', tonumber(t[1]), tonumber(t[2]))
  redis.call('HSET', key, '~', generation)
end
local all = redis.call('HGETALL', key)
local out = {generation}
for i = 1, #all, 2 do
  if all[i] ~= '~' then
    local ok, ruling = pcall(cjson.decode, all[i + 1])
    local keep = ok and type(ruling) == 'table'
    if keep and ruling.kind ~= 'topic' then
      local ends = ruling['until']
      keep = type(ends) == 'number' and ends > now
    end
    if keep then
      out[#out + 1] = all[i + 1]
    else
      redis.call('HDEL', key, all[i])
    end
  end
end
return out
`;

/** The ruling scripts, by the command name each gets on the client. */
export const RULING_SCRIPTS = {
  cwRule: RULE,
  cwRulings: RULINGS,
} as const;
