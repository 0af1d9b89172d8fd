/*
 * Lua for the Redis state store: reserves and settles travel in batches, one script call per
 * event-loop turn (BATCH_LUA), so a reserve is one round trip and atomic. Layout per counter K
 * (every key under one prefix that carries a hash tag):
 *   <prefix>c:K  hash   s = spent, r = reserved, e = window end (ms, Redis clock)
 *   <prefix>z:K  zset   member "<amount>|<reservation id>", score = lapse time (ms)
 *   <prefix>r:ID hash   field K = amount held on K (what settle must undo)
 *   <prefix>s:ID string settled marker: a second settle of ID is a no-op
 * Amounts and limits are integer micro-units (see UNITS_PER_ONE), written with
 * string.format('%.0f') because Redis would print large Lua numbers in exponent form.
 * The clock is redis.call('TIME'): Redis 7 replicates scripts by effects, so TIME is allowed.
 * A counter past `e` counts as empty (its keys live `marginMs` longer only as garbage).
 */

const PRELUDE = `
local function fmt(n) return string.format('%.0f', n) end

local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Spent, reserved and window end of a counter, after dropping an ended window and lapsed holds.
local function load(c, z, now)
  local v = redis.call('HMGET', c, 's', 'r', 'e')
  local e = tonumber(v[3])
  if e == nil or e <= now then
    redis.call('DEL', c, z)
    return 0, 0, nil
  end
  local s = tonumber(v[1]) or 0
  local r = tonumber(v[2]) or 0
  local gone = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #gone > 0 then
    local sum = 0
    for i = 1, #gone do sum = sum + tonumber(string.match(gone[i], '^(%d+)|')) end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
    r = r - sum
    redis.call('HINCRBY', c, 'r', fmt(-sum))
  end
  if r < 0 then r = 0 end
  return s, r, e
end

-- Moves a counter's window end (and both keys' expiry) forward, never back.
local function extend(c, z, e, want, margin)
  if e ~= nil and want <= e then return e end
  redis.call('HSET', c, 'e', fmt(want))
  redis.call('PEXPIREAT', c, fmt(want + margin))
  redis.call('PEXPIREAT', z, fmt(want + margin))
  return want
end
`;

/**
 * Reserve: KEYS[kb] = r:ID, then c:K, z:K per item. ARGV[ab] = id, ARGV[ab + 1] = ttlMs, then key,
 * amount, limit, expiresAtMs per item. Returns {1, used...} or {0, failing index (0-based), its use
 * now}. Rule: admit while spent + reserved + amount <= limit (so limit L admits L reserves of 1).
 */
const RESERVE_FUNCTION = `
local function reserve(kb, ab, n, now, margin)
  local id, ttl = ARGV[ab], tonumber(ARGV[ab + 1])
  local state = {}
  local out = { 1 }
  for i = 1, n do
    local c, z, a = KEYS[kb + 2 * i - 1], KEYS[kb + 2 * i], ab + 2 + (i - 1) * 4
    local amount, limit = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
    local st = state[c]
    if st == nil then
      local s, r, e = load(c, z, now)
      st = { s = s, r = r, e = e, add = 0 }
      state[c] = st
    end
    local before = st.s + st.r + st.add
    if before + amount > limit then return { 0, i - 1, st.s + st.r } end
    st.add = st.add + amount
    out[i + 1] = before + amount
  end
  local rec, lapseAt, held = KEYS[kb], now + ttl, false
  -- Holds to merge with come from an earlier reserve under the same id (a cut-mode retry), read
  -- from rec only when it exists, or from an earlier item of this call on the same counter.
  local again, mine = redis.call('EXISTS', rec) == 1, {}
  for i = 1, n do
    local c, z, a = KEYS[kb + 2 * i - 1], KEYS[kb + 2 * i], ab + 2 + (i - 1) * 4
    local amount = tonumber(ARGV[a + 1])
    if amount > 0 then
      local st, key = state[c], ARGV[a]
      st.e = extend(c, z, st.e, tonumber(ARGV[a + 3]), margin)
      -- Same id again: merge with its live hold on this counter.
      local total, prev = amount, mine[key] or (again and redis.call('HGET', rec, key))
      if prev and redis.call('ZREM', z, prev .. '|' .. id) == 1 then total = total + tonumber(prev) end
      local held_amount = fmt(total)
      mine[key] = held_amount
      redis.call('HSET', rec, key, held_amount)
      redis.call('ZADD', z, fmt(lapseAt), held_amount .. '|' .. id)
      redis.call('PEXPIREAT', z, fmt(st.e + margin))
      redis.call('HINCRBY', c, 'r', fmt(amount))
      held = true
    end
  end
  if held and (not again or redis.call('PTTL', rec) < ttl + margin) then redis.call('PEXPIRE', rec, fmt(ttl + margin)) end
  return out
end
`;

/**
 * Settle: KEYS[kb] = r:ID, KEYS[kb + 1] = s:ID, then c:K, z:K per actual item. ARGV[ab] = id, then
 * amount, expiresAtMs per item. The counters named in r:ID are built from the prefix inside the
 * script: not declared in KEYS, but in the same slot as every other key thanks to the hash tag.
 * Removing a hold only subtracts if the hold is still there, so a lapsed one is never undone twice.
 * Returns 1, or 0 when the id was settled before.
 */
const SETTLE_FUNCTION = `
local function settle(kb, ab, n, now, prefix, marker, margin)
  if redis.call('EXISTS', KEYS[kb + 1]) == 1 then return 0 end
  local id = ARGV[ab]
  local rec = redis.call('HGETALL', KEYS[kb])
  for i = 1, #rec, 2 do
    if redis.call('ZREM', prefix .. 'z:' .. rec[i], rec[i + 1] .. '|' .. id) == 1 then
      redis.call('HINCRBY', prefix .. 'c:' .. rec[i], 'r', fmt(-tonumber(rec[i + 1])))
    end
  end
  redis.call('DEL', KEYS[kb])
  for i = 1, n do
    local c, z, a = KEYS[kb + 2 * i], KEYS[kb + 2 * i + 1], ab + 1 + (i - 1) * 2
    local amount = tonumber(ARGV[a])
    if amount > 0 then
      -- Only the window end matters here; lapsed holds are dropped by the next load, before
      -- anything reads the counter. A counter whose window is over starts afresh, as in load.
      local e = tonumber(redis.call('HGET', c, 'e'))
      if e ~= nil and e <= now then
        redis.call('DEL', c, z)
        e = nil
      end
      extend(c, z, e, tonumber(ARGV[a + 1]), margin)
      redis.call('HINCRBY', c, 's', fmt(amount))
    end
  end
  redis.call('SET', KEYS[kb + 1], '1', 'PX', fmt(marker))
  return 1
end
`;

/**
 * Reserves and settles of one event-loop turn in one script: one round trip, one clock reading
 * and one reply for all of them, applied in order as separate calls would be.
 * ARGV: prefix, settledMarkerMs, marginMs, op count, then per op its kind ('r' or 's'), its item
 * count and its arguments; KEYS: each op's keys in turn. Returns each op's reply, in order.
 */
export const BATCH_LUA = `${PRELUDE}${RESERVE_FUNCTION}${SETTLE_FUNCTION}
local prefix, marker, margin, ops = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = clock()
local out = {}
local kb, ab = 1, 5
for op = 1, ops do
  local kind, n = ARGV[ab], tonumber(ARGV[ab + 1])
  if kind == 'r' then
    out[op] = reserve(kb, ab + 2, n, now, margin)
    kb, ab = kb + 1 + 2 * n, ab + 4 + 4 * n
  elseif kind == 's' then
    out[op] = settle(kb, ab + 2, n, now, prefix, marker, margin)
    kb, ab = kb + 2 + 2 * n, ab + 3 + 2 * n
  else
    return redis.error_reply('unknown batch op ' .. tostring(kind))
  end
end
return out
`;

/** KEYS: c:K, z:K per key. Returns spent, reserved per key (lapsed holds removed on the way). */
export const READ_LUA = `${PRELUDE}
local now = clock()
local out = {}
for i = 1, #KEYS / 2 do
  local s, r = load(KEYS[2 * i - 1], KEYS[2 * i], now)
  out[2 * i - 1] = s
  out[2 * i] = r
end
return out
`;

/**
 * The part of a key Redis Cluster hashes: the text between the first '{' and the next '}', if not
 * empty. Undefined means the whole key is hashed.
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/**
 * Makes sure every key under `prefix` lands on one slot: appends `:{limits}:` when the prefix has no
 * hash tag of its own. Throws when a tag cannot be formed (an empty `{}` before any other).
 */
export function slotPrefix(prefix: string): string {
  const separator = prefix === '' || prefix.endsWith(':') ? '' : ':';
  const tagged = hashTagOf(prefix) === undefined ? `${prefix}${separator}{limits}:` : prefix;
  if (hashTagOf(tagged) === undefined) throw new RangeError(`state prefix '${prefix}' cannot carry a Redis hash tag`);
  return tagged;
}
