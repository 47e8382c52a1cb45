/**
 * Lua scripts of the Redis backend. Redis runs a script atomically, so the compare-and-set, the opId record,
 * the data change and the namespace index update of one call are applied together or not at all.
 * Every script answers `{status, payload}`: `ok`, `op` (opId already applied: payload is its record) or
 * `conflict` (payload is the current version); a write that changed the namespace adds its change count.
 */

/** KEYS: kv, ver, ops, index, meta, total. ARGV: ns, key, value, expected ('' = any), opId ('' = none), now. */
export const PUT = `
if ARGV[5] ~= '' then
  local rec = redis.call('HGET', KEYS[3], ARGV[5])
  if rec then return {'op', rec} end
end
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= cur then return {'conflict', tostring(cur)} end
local v = cur + 1
local delta = string.len(ARGV[3]) - redis.call('HSTRLEN', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], v)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[3], ARGV[5], 'put:' .. v) end
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
local w = redis.call('HINCRBY', KEYS[5], 'writes', 1)
redis.call('HINCRBY', KEYS[5], 'bytes', delta)
redis.call('INCRBY', KEYS[6], delta)
return {'ok', tostring(v), tostring(w)}
`;

/** KEYS: kv, ver, ops, index, meta, total. ARGV: ns, key, expected ('' = any), opId ('' = none), now. */
export const DELETE = `
if ARGV[4] ~= '' then
  local rec = redis.call('HGET', KEYS[3], ARGV[4])
  if rec then return {'op', rec} end
end
local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= cur then return {'conflict', tostring(cur)} end
local deleted = 'false'
if cur > 0 then
  local delta = -redis.call('HSTRLEN', KEYS[1], ARGV[2])
  redis.call('HINCRBY', KEYS[5], 'bytes', delta)
  redis.call('INCRBY', KEYS[6], delta)
  redis.call('HDEL', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[2], ARGV[2])
  deleted = 'true'
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], ARGV[4], 'delete:' .. deleted) end
if deleted == 'true' or ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
  return {'ok', deleted, tostring(redis.call('HINCRBY', KEYS[5], 'writes', 1))}
end
return {'ok', deleted}
`;

/** KEYS: list, lists (set of list names), ops, index, meta, total. ARGV: ns, list name, value, opId ('' = none), now. */
export const APPEND = `
if ARGV[4] ~= '' then
  local rec = redis.call('HGET', KEYS[3], ARGV[4])
  if rec then return {'op', rec} end
end
local n = redis.call('RPUSH', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[2])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[3], ARGV[4], 'append:' .. n) end
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
local w = redis.call('HINCRBY', KEYS[5], 'writes', 1)
redis.call('HINCRBY', KEYS[5], 'bytes', string.len(ARGV[3]))
redis.call('INCRBY', KEYS[6], string.len(ARGV[3]))
return {'ok', tostring(n), tostring(w)}
`;

/** KEYS: kv, ver. ARGV: key. Value and version read together so they always match. */
export const GET = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return {} end
return {v, redis.call('HGET', KEYS[2], ARGV[1])}
`;

/** KEYS: list. ARGV: start, end ('' = length). Array.prototype.slice semantics, resolved against one length. */
export const RANGE = `
local len = redis.call('LLEN', KEYS[1])
local function norm(i)
  if i < 0 then return math.max(len + i, 0) end
  return math.min(i, len)
end
local s = norm(tonumber(ARGV[1]))
local e = len
if ARGV[2] ~= '' then e = norm(tonumber(ARGV[2])) end
if e <= s then return {} end
return redis.call('LRANGE', KEYS[1], s, e - 1)
`;

/** KEYS: owner, index, meta. ARGV: ns, owner, expected epoch, now. */
export const SET_OWNER = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
if tonumber(ARGV[3]) ~= cur then return {'conflict', tostring(cur)} end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'epoch', cur + 1)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'writes', 1)
return {'ok', tostring(cur + 1)}
`;

/** KEYS: kv, ver, ops, owner, lists, index, meta, total. ARGV: ns, key prefix of lists. */
export const DROP = `
local bytes = tonumber(redis.call('HGET', KEYS[7], 'bytes') or '0')
if bytes ~= 0 then redis.call('DECRBY', KEYS[8], bytes) end
for _, name in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  redis.call('DEL', ARGV[2] .. name)
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[7])
redis.call('ZREM', KEYS[6], ARGV[1])
return {'ok', ''}
`;

/** KEYS: owner, meta. Owner, epoch and change count read together. */
export const STAMP = `
local o = redis.call('HMGET', KEYS[1], 'owner', 'epoch')
local w = redis.call('HGET', KEYS[2], 'writes') or '0'
return {o[1] or '', o[2] or '', w}
`;
