"""A rate limiter shared by every worker process using one provider credential.

It never lets more than ``limit`` requests reach the provider in any ``window``
seconds, whatever the network does. A request holds its slot while in flight
and is then remembered by the time its answer came back: the provider saw it
no later than that, so counting the window from there can never let one more
request land inside the provider's window (counting from the start would,
when requests are delayed on the way). A 429 pauses the credential for every
worker until the provider's Retry-After.

State lives where all workers can reach it: the database in the embedded
default (one row per credential, updated under a row lock), Redis when
REDIS_URL is set (atomic Lua scripts, on Redis's own clock).
"""

import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from studio.models import RateLimitBucket

# A worker that died mid-request never says its request came back: give up
# on the slot after this long.
IN_FLIGHT_LIMIT = 300.0
# A wait for a slot is cut into steps this long, so whoever waits can show it is alive.
WAIT_STEP = 5.0

ACQUIRE = """
local done, flying, window, limit, stale = KEYS[1], KEYS[2], tonumber(ARGV[1]),
  tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local paused = tonumber(redis.call('GET', done .. ':paused') or '0')
if paused > now then return tostring(paused - now) end
redis.call('ZREMRANGEBYSCORE', done, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', flying, '-inf', now - stale)
local used = redis.call('ZCARD', done) + redis.call('ZCARD', flying)
if used < limit then
  redis.call('ZADD', flying, now, ARGV[4])
  redis.call('EXPIRE', flying, math.ceil(stale))
  return '0'
end
local oldest = redis.call('ZRANGE', done, 0, 0, 'WITHSCORES')[2]
if not oldest then return '0.05' end
return tostring(math.max(tonumber(oldest) + window - now, 0.01))
"""
RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
end
"""
PAUSE = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
if until_ > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(until_), 'EX', math.ceil(tonumber(ARGV[1])) + 2)
end
"""


class RateLimiter:
    def __init__(
        self,
        key: str,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.key, self.limit, self.window = key, max(limit, 1), window
        self.clock, self.sleep = clock, sleep

    def acquire(self, waiting: Callable[[], None] = lambda: None) -> str:
        """Block until a request may go; returns the slot to ``release`` when it returns.

        ``waiting`` is called before each wait (at least every WAIT_STEP seconds): a worker
        renews its lease there, so a take waiting for a slot is never taken for dead; it
        may raise to stop waiting."""
        token = secrets.token_hex(8)
        while (wait := self.try_acquire(token)) > 0:
            waiting()
            self.sleep(min(wait, WAIT_STEP))
        return token

    def try_acquire(self, token: str) -> float:
        """Take a slot now (0), or say how many seconds until one may be free."""
        raise NotImplementedError

    def release(self, token: str) -> None:
        """The request's answer came back (or it failed): its slot now counts from here."""
        raise NotImplementedError

    def give_back(self, token: str) -> None:
        """The request was never sent: its slot is free again at once."""
        raise NotImplementedError

    def pause(self, seconds: float) -> None:
        """The provider said 429: nobody with this credential calls before ``seconds`` pass."""
        raise NotImplementedError


class DatabaseRateLimiter(RateLimiter):
    """Slots as ``[token, started, returned or None]`` in one row per credential."""

    def try_acquire(self, token: str) -> float:
        with transaction.atomic():
            bucket = self._bucket()
            now = self.clock()
            if bucket.paused_until > now:
                return bucket.paused_until - now
            slots = [
                slot
                for slot in bucket.recent
                if (slot[2] is None and slot[1] > now - IN_FLIGHT_LIMIT)
                or (slot[2] is not None and slot[2] > now - self.window)
            ]
            if len(slots) >= self.limit:
                returned = [slot[2] for slot in slots if slot[2] is not None]
                return min(returned) + self.window - now if returned else 0.05
            bucket.recent = [*slots, [token, now, None]]
            bucket.save(update_fields=["recent"])
            return 0.0

    def release(self, token: str) -> None:
        with transaction.atomic():
            bucket = self._bucket()
            now = self.clock()
            bucket.recent = [
                [t, start, now if t == token else done] for t, start, done in bucket.recent
            ]
            bucket.save(update_fields=["recent"])

    def give_back(self, token: str) -> None:
        with transaction.atomic():
            bucket = self._bucket()
            bucket.recent = [slot for slot in bucket.recent if slot[0] != token]
            bucket.save(update_fields=["recent"])

    def pause(self, seconds: float) -> None:
        with transaction.atomic():
            bucket = self._bucket()
            bucket.paused_until = max(bucket.paused_until, self.clock() + seconds)
            bucket.save(update_fields=["paused_until"])

    def _bucket(self) -> RateLimitBucket:
        # select_for_update serialises workers on PostgreSQL; on SQLite the
        # IMMEDIATE transaction mode already holds the write lock.
        RateLimitBucket.objects.get_or_create(key=self.key)
        return RateLimitBucket.objects.select_for_update().get(key=self.key)


class RedisRateLimiter(RateLimiter):
    def __init__(self, *args, redis_url: str, **kwargs):
        import redis

        super().__init__(*args, **kwargs)
        self.redis = redis.Redis.from_url(redis_url)
        self.keys = [f"slate:rate:{self.key}:done", f"slate:rate:{self.key}:flying"]
        self.scripts = {
            name: self.redis.register_script(code)
            for name, code in (("acquire", ACQUIRE), ("release", RELEASE), ("pause", PAUSE))
        }

    def try_acquire(self, token: str) -> float:
        args = [self.window, self.limit, IN_FLIGHT_LIMIT, token]
        return float(self.scripts["acquire"](keys=self.keys, args=args))

    def release(self, token: str) -> None:
        self.scripts["release"](keys=self.keys, args=[token, self.window])

    def give_back(self, token: str) -> None:
        self.redis.zrem(self.keys[1], token)

    def pause(self, seconds: float) -> None:
        self.scripts["pause"](keys=[f"{self.keys[0]}:paused"], args=[seconds])


class NoLimit(RateLimiter):
    """An endpoint with no request limit (a creator's own GPU): every call goes at once."""

    def try_acquire(self, token: str) -> float:
        return 0.0

    def release(self, token: str) -> None:
        pass

    def give_back(self, token: str) -> None:
        pass

    def pause(self, seconds: float) -> None:
        pass


def limiter_for(key: str, limit: int, window: float | None = None) -> RateLimiter:
    """The shared limiter for a credential; ``limit`` 0 means no limit."""
    window = window if window is not None else settings.SLATE_RATE_WINDOW_SECONDS
    if limit == 0:
        return NoLimit(key, 0, window)
    if settings.REDIS_URL:
        return RedisRateLimiter(key, limit, window, redis_url=settings.REDIS_URL)
    return DatabaseRateLimiter(key, limit, window)
