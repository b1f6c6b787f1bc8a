/**
 * The Lua scripts of the Redis budget store. Each store operation is one
 * script, which Redis runs atomically: no other command from any replica
 * runs between its reads and its writes.
 *
 * Keys of one tenant's period (`<prefix>budget:<tenant>:<start unix s>`):
 * - the period hash: `used`, `reserved` (sum of open reservations),
 *   `r:<id>` (tokens of each open reservation), `a:<threshold>` (alert fired);
 * - `<period hash>:expiry`: sorted set of reservation ids by expiry (ms).
 * Both expire at the end of the next period (PEXPIREAT), so old periods
 * disappear by themselves once rollover no longer needs them. A sorted set
 * `<prefix>budget:tenants` holds the tenants with a period not yet ended,
 * scored by that period's end.
 */

// Shared helpers, prepended to every script that needs them. Numbers are Lua
// doubles, exact for whole-token counts up to 2^53; counts go to HINCRBY as
// the strings they arrived as, since Lua prints large doubles as 1e+15.
const HELPERS = `
local function sweep(period, expiry, now)
  local expired = redis.call('ZRANGEBYSCORE', expiry, '-inf', now)
  for _, id in ipairs(expired) do
    local held = redis.call('HGET', period, 'r:' .. id)
    if held then
      redis.call('HDEL', period, 'r:' .. id)
      redis.call('HINCRBY', period, 'reserved', '-' .. held)
    end
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', expiry, '-inf', now) end
end

local function allowance(previous, limit, rollover)
  if rollover ~= 1 then return limit end
  local used = redis.call('HGET', previous, 'used')
  if not used then return limit end
  return limit + math.min(limit, math.max(0, limit - tonumber(used)))
end

local function count(period, field)
  return tonumber(redis.call('HGET', period, field) or '0')
end
`;

/**
 * KEYS: period, expiry, previous period, tenants.
 * ARGV: now, estimate, id, expires at, dry run (0/1), limit, rollover (0/1),
 * burst, enforce (0/1), keep until, tenant, period end.
 * Returns {admitted (0/1), used, reserved, allowance}.
 */
export const RESERVE_SCRIPT = `${HELPERS}
local period, expiry, previous, tenants = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, estimate = tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, rollover = tonumber(ARGV[6]), tonumber(ARGV[7])
local burst, enforce, keep = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])

sweep(period, expiry, now)
local used, reserved = count(period, 'used'), count(period, 'reserved')
local allowed = allowance(previous, limit, rollover)
local admitted = 1
if enforce == 1 and used + reserved + estimate > math.floor(allowed * (1 + burst)) then
  admitted = 0
end
if admitted == 0 or ARGV[5] == '1' then return {admitted, used, reserved, allowed} end

redis.call('HINCRBY', period, 'used', 0)
reserved = redis.call('HINCRBY', period, 'reserved', ARGV[2])
redis.call('HSET', period, 'r:' .. ARGV[3], ARGV[2])
redis.call('ZADD', expiry, tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIREAT', period, keep)
redis.call('PEXPIREAT', expiry, keep)
redis.call('ZADD', tenants, tonumber(ARGV[12]), ARGV[11])
redis.call('ZREMRANGEBYSCORE', tenants, '-inf', now)
return {admitted, used, reserved, allowed}
`;

/**
 * KEYS: period, expiry, previous period.
 * ARGV: now, id, tokens, limit, rollover (0/1), keep until, thresholds...
 * Returns {used before, used after, reserved, allowance, {fired thresholds}}.
 */
export const SETTLE_SCRIPT = `${HELPERS}
local period, expiry, previous = KEYS[1], KEYS[2], KEYS[3]
local now, id = tonumber(ARGV[1]), ARGV[2]
local limit, rollover, keep = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

sweep(period, expiry, now)
local held = redis.call('HGET', period, 'r:' .. id)
if held then
  redis.call('HDEL', period, 'r:' .. id)
  redis.call('HINCRBY', period, 'reserved', '-' .. held)
  redis.call('ZREM', expiry, id)
end
local before = count(period, 'used')
local after = redis.call('HINCRBY', period, 'used', ARGV[3])
redis.call('PEXPIREAT', period, keep)

local fired = {}
for i = 7, #ARGV do
  local threshold = ARGV[i]
  if after >= tonumber(threshold) * limit and
      redis.call('HSETNX', period, 'a:' .. threshold, 1) == 1 then
    table.insert(fired, threshold)
  end
end
return {before, after, count(period, 'reserved'), allowance(previous, limit, rollover), fired}
`;

/** KEYS: period, expiry. ARGV: id. Drops the reservation; returns nothing useful. */
export const RELEASE_SCRIPT = `
local period, expiry, id = KEYS[1], KEYS[2], ARGV[1]
local held = redis.call('HGET', period, 'r:' .. id)
if held then
  redis.call('HDEL', period, 'r:' .. id)
  redis.call('HINCRBY', period, 'reserved', '-' .. held)
  redis.call('ZREM', expiry, id)
end
return 0
`;

/**
 * KEYS: period, expiry, previous period. ARGV: now, limit, rollover (0/1).
 * Returns {used, reserved, allowance}.
 */
export const USAGE_SCRIPT = `${HELPERS}
local period, expiry, previous = KEYS[1], KEYS[2], KEYS[3]
sweep(period, expiry, tonumber(ARGV[1]))
local allowed = allowance(previous, tonumber(ARGV[2]), tonumber(ARGV[3]))
return {count(period, 'used'), count(period, 'reserved'), allowed}
`;

/**
 * KEYS: period, expiry. ARGV: keep until. Usage of the period back to zero;
 * the period stays recorded (it still counts as seen for rollover).
 */
export const RESET_SCRIPT = `
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'used', 0, 'reserved', 0)
redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[1]))
return 0
`;
