import { createHash } from 'node:crypto';

import type { Redis } from 'ioredis';

/**
 * GCRA (the generic cell rate algorithm), the token bucket of RateLimiter kept as one number
 * per source: the theoretical arrival time (TAT) at which the source's allowance is used up.
 * A request at `now` is allowed when TAT + interval - burst * interval <= now; it then moves
 * TAT to max(TAT, now) + interval. A refused request changes nothing, as in RateLimiter.
 *
 * Everything happens in one script, so replicas cannot interleave a read and a write, and the
 * clock is Redis's TIME, so replicas with skewed clocks still agree. Times are microseconds,
 * written with %.0f because Lua's tostring would round them to 14 digits. The key expires when
 * TAT passes: by then the source has its full burst again, the same as no key.
 *
 * KEYS[1] the source's key; ARGV[1] interval (microseconds per request); ARGV[2] burst.
 * Returns {1, 0} when allowed, {0, microseconds to wait} when refused.
 */
export const GCRA_SCRIPT = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local tat = tonumber(redis.call('GET', KEYS[1]) or now) or now
if tat < now then tat = now end
local next_tat = tat + interval

local allowed_at = next_tat - burst * interval
if allowed_at > now then
  return {0, math.ceil(allowed_at - now)}
end

local ttl_ms = math.ceil((next_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
return {1, 0}
`;

const GCRA_SHA1 = createHash('sha1').update(GCRA_SCRIPT).digest('hex');

/**
 * Runs the script by its digest, and sends its text only when Redis does not have it yet
 * (after a restart or a failover), so a request usually costs one short round trip.
 */
export async function runGcra(
  redis: Redis,
  key: string,
  intervalMicros: number,
  burst: number,
): Promise<{ allowed: boolean; waitMicros: number }> {
  const args = [key, String(intervalMicros), String(burst)];
  let reply: unknown;
  try {
    reply = await redis.evalsha(GCRA_SHA1, 1, ...args);
  } catch (err) {
    if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
    reply = await redis.eval(GCRA_SCRIPT, 1, ...args);
  }

  const [allowed, waitMicros] = reply as [number, number];
  return { allowed: allowed === 1, waitMicros };
}
