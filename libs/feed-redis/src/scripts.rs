//! The Lua scripts. Each runs atomically inside Redis, so a check ("does the cache exist?",
//! "is this below the floor?") and the write it guards cannot be split by another client's
//! write, and each is one round trip.
//!
//! Every script takes `KEYS[1]` = the reader's sorted set and (where it needs it) `KEYS[2]` =
//! the meta hash; the two share a hash tag, so a cluster runs the script on one node. Scripts
//! are called by SHA1 (EVALSHA); a server that lost its script cache answers NOSCRIPT and the
//! caller loads them and retries (every script is idempotent, so a retry is harmless).
//!
//! The window floor lives in the meta as a padded id (field `floor`, absent when the cache is
//! complete; `truncated` says `1` exactly when it is there). It only rises: a trim raises it
//! just above the highest entry trimmed, an incomplete rebuild to its oldest entry; nothing
//! below it is ever added. It cannot be derived from the set: removals leave it where it was.
//!
//! Lua numbers are doubles, so 64-bit ids are never numbers here: they are compared and
//! incremented as two 10-digit halves of the padded id, each exact in a double (and string
//! comparison in Redis's Lua follows the server's locale, so it is not used for order).

use redis::Script;

/// Helpers put in front of every script that needs them (scripts cannot share functions).
const PRELUDE: &str = r#"
-- The padded id a member (or a padded id) starts with, as two exact halves.
local function halves(s)
  return tonumber(string.sub(s, 1, 10)), tonumber(string.sub(s, 11, 20))
end

-- Whether the id `a` starts with is below the id `b` starts with.
local function below(a, b)
  local ahi, alo = halves(a)
  local bhi, blo = halves(b)
  return ahi < bhi or (ahi == bhi and alo < blo)
end

-- The padded id one above the id `m` starts with.
local function next_id(m)
  local hi, lo = halves(m)
  lo = lo + 1
  if lo == 10000000000 then
    hi, lo = hi + 1, 0
  end
  return string.format('%010.0f%010.0f', hi, lo)
end

-- Removes the entries below `floor`: a prefix of the set, read in batches.
local function drop_below(floor)
  while true do
    local lowest = redis.call('ZRANGE', KEYS[1], 0, 99)
    local n = 0
    while n < #lowest and below(lowest[n + 1], floor) do
      n = n + 1
    end
    if n > 0 then
      redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - 1)
    end
    if n < 100 then
      return
    end
  end
end

-- Adds the score, member pairs of ARGV[first..] that are not below `floor` (false: none),
-- trims to `cap`, raising the floor just above the highest entry trimmed. Returns the floor,
-- and whether the set was created here (it was empty, so it did not exist). Hot: a push runs
-- it once per follower.
local function add_and_trim(floor, first, cap)
  local added = 0
  if floor then
    -- Scores order ids (a larger id never has a smaller score); only ids sharing the floor's
    -- score need the exact comparison.
    local floor_score = tonumber(floor)
    local kept = {}
    for i = first, #ARGV - 1, 2 do
      local score = tonumber(ARGV[i])
      if score > floor_score or (score == floor_score and not below(ARGV[i + 1], floor)) then
        kept[#kept + 1] = ARGV[i]
        kept[#kept + 1] = ARGV[i + 1]
      end
    end
    -- unpack() has a stack limit: at most 500 pairs per ZADD.
    for i = 1, #kept, 1000 do
      added = added + redis.call('ZADD', KEYS[1], unpack(kept, i, math.min(i + 999, #kept)))
    end
  else
    for i = first, #ARGV, 1000 do
      added = added + redis.call('ZADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
    end
  end
  local size = redis.call('ZCARD', KEYS[1])
  local created = added > 0 and size == added
  if size > cap then
    -- [member, score, ...], lowest first: the last member is the highest trimmed.
    local popped = redis.call('ZPOPMIN', KEYS[1], size - cap)
    local raised = next_id(popped[#popped - 1])
    if not floor then
      redis.call('HSET', KEYS[2], 'floor', raised, 'truncated', '1')
      floor = raised
    elseif tonumber(popped[#popped]) > tonumber(floor) or below(floor, raised) then
      -- (Everything in the set is at or above the floor, so this is the usual case; the
      -- score comparison spares the exact one.)
      redis.call('HSET', KEYS[2], 'floor', raised)
      floor = raised
    end
  end
  return floor, created
end
"#;

/// `read(user, before, limit)`. ARGV: ttl ms, limit, padded cursor (`""`: none), cursor score.
/// Returns nil when the cache is missing or not ready; else `[floor, members...]` newest
/// first, where floor is the padded floor id or `""` (the cache is complete).
const READ: &str = r#"
local meta = redis.call('HMGET', KEYS[2], 'state', 'floor')
if meta[1] ~= 'ready' then
  return false
end
-- Reading makes the reader active: both keys live another ttl.
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
local page = {meta[2] or ''}
local limit = tonumber(ARGV[2])
if limit < 1 then
  return page
end
if ARGV[3] == '' then
  local newest = redis.call('ZRANGE', KEYS[1], 0, limit - 1, 'REV')
  for i = 1, #newest do
    page[#page + 1] = newest[i]
  end
  return page
end
-- Every id below the cursor has a score <= the cursor's, but a few ids at or above it may
-- share the cursor's score; they come first (newest first) and are skipped.
local offset = 0
local batch = limit + 8
local skipping = true
while true do
  local got = redis.call('ZRANGE', KEYS[1], ARGV[4], '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, batch)
  for i = 1, #got do
    -- Newest first: once one member is below the cursor, all the following ones are.
    skipping = skipping and not below(got[i], ARGV[3])
    if not skipping then
      page[#page + 1] = got[i]
      if #page > limit then
        return page
      end
    end
  end
  if #got < batch then
    return page
  end
  offset = offset + #got
end
"#;

/// `begin_rebuild(user)`. ARGV: ttl ms. A live cache keeps its entries and floor and is only
/// made unreadable; a missing one starts empty and complete (dropping a sorted set that
/// outlived its meta, e.g. after an eviction).
const BEGIN_REBUILD: &str = r#"
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'state', 'building')
else
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'state', 'building', 'truncated', '0')
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"#;

/// `finish_rebuild(user, entries, complete)`. ARGV: ttl ms, cap, the padded id of the oldest
/// entry when the rebuild is incomplete (else `""`), then score, member pairs. An incomplete
/// rebuild raises the floor to its oldest entry and drops what pushes left below it; then the
/// entries are added as by a push, and the cache becomes readable.
const FINISH_REBUILD: &str = r#"
local floor = false
if redis.call('EXISTS', KEYS[2]) == 1 then
  floor = redis.call('HGET', KEYS[2], 'floor')
else
  -- The cache expired while it was being built: start again from nothing.
  redis.call('DEL', KEYS[1])
end
local oldest = ARGV[3]
if oldest ~= '' and (not floor or below(floor, oldest)) then
  floor = oldest
end
if floor and oldest ~= '' then
  drop_below(floor)
end
floor = add_and_trim(floor, 4, tonumber(ARGV[2]))
if floor then
  redis.call('HSET', KEYS[2], 'state', 'ready', 'floor', floor, 'truncated', '1')
else
  redis.call('HSET', KEYS[2], 'state', 'ready', 'truncated', '0')
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"#;

/// `push` (one call per reader) and `insert`. ARGV: cap, then score, member pairs. Returns 1
/// when the reader has a cache (readable or being built), else 0 and writes nothing. Renews
/// nothing: a post arriving does not make its reader active. A sorted set that ZADD has just
/// created (the old one had been emptied by removals) has no ttl: it takes the meta's.
const ADD: &str = r#"
-- One call for both questions: a meta without `state` does not exist.
local meta = redis.call('HMGET', KEYS[2], 'state', 'floor')
if not meta[1] then
  return 0
end
local _, created = add_and_trim(meta[2], 2, tonumber(ARGV[1]))
if created then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
end
return 1
"#;

/// `remove_author(user, author)`. ARGV: `:<author>`. Caches are small (the cap), so reading
/// the whole set is cheaper than keeping a second index per author.
const REMOVE_AUTHOR: &str = r#"
local suffix = ARGV[1]
local doomed = {}
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, -#suffix) == suffix then
    doomed[#doomed + 1] = m
  end
end
for i = 1, #doomed, 1000 do
  redis.call('ZREM', KEYS[1], unpack(doomed, i, math.min(i + 999, #doomed)))
end
return #doomed
"#;

/// The scripts with their SHA1s, computed once.
pub(crate) struct Scripts {
    pub(crate) read: Script,
    pub(crate) begin_rebuild: Script,
    pub(crate) finish_rebuild: Script,
    pub(crate) add: Script,
    pub(crate) remove_author: Script,
}

impl Scripts {
    pub(crate) fn new() -> Scripts {
        let with_prelude = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
        Scripts {
            read: with_prelude(READ),
            begin_rebuild: Script::new(BEGIN_REBUILD),
            finish_rebuild: with_prelude(FINISH_REBUILD),
            add: with_prelude(ADD),
            remove_author: Script::new(REMOVE_AUTHOR),
        }
    }

    pub(crate) fn all(&self) -> [&Script; 5] {
        [
            &self.read,
            &self.begin_rebuild,
            &self.finish_rebuild,
            &self.add,
            &self.remove_author,
        ]
    }
}
