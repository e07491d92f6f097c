"""Policy lookups remembered for the rest of one web request. A page asks for the same rules, template
fields or parameters from its view, its checks and its panels; each is read once per request. Outside a
request (jobs, commands, tests calling services) nothing is remembered. Results are shared: callers
treat them as read-only."""

from __future__ import annotations

import functools
from contextvars import ContextVar

_memo: ContextVar[dict | None] = ContextVar("request_memo", default=None)


def per_request(fn):
    @functools.wraps(fn)
    def wrapped(*args):
        store = _memo.get()
        if store is None:
            return fn(*args)
        key = (fn, args)  # the function itself: two modules' functions may share a name
        if key not in store:
            store[key] = fn(*args)
        return store[key]

    return wrapped


def begin():
    """Start a request's memo; returns the token for end()."""
    return _memo.set({})


def end(token) -> None:
    _memo.reset(token)
