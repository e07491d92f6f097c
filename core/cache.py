"""The shared cache (Redis) as a convenience, never a dependency: during a Redis outage reads miss and
writes are dropped with a logged warning, so pages, the token endpoint and the password reset keep
answering. Rate limits kept in the cache (the token endpoint's throttle, reset requests) are then not
counted; the login lockout (django-axes) lives in the database and still holds."""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


def _tolerant(fallback):
    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                log.warning("cache unavailable for %s: %s", method.__name__, exc)
                return fallback(*args, **kwargs)

        return call

    return wrap


def _missing(*args, **kwargs):
    raise ValueError("cache unavailable: the key counts as missing")


class ResilientRedisCache(RedisCache):
    get = _tolerant(lambda key, default=None, version=None: default)(RedisCache.get)
    get_many = _tolerant(lambda *a, **k: {})(RedisCache.get_many)
    has_key = _tolerant(lambda *a, **k: False)(RedisCache.has_key)
    add = _tolerant(lambda *a, **k: False)(RedisCache.add)
    set = _tolerant(lambda *a, **k: None)(RedisCache.set)
    set_many = _tolerant(lambda *a, **k: [])(RedisCache.set_many)
    touch = _tolerant(lambda *a, **k: False)(RedisCache.touch)
    delete = _tolerant(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _tolerant(lambda *a, **k: None)(RedisCache.delete_many)
    incr = _tolerant(_missing)(RedisCache.incr)
