"""The work inbox (待办): what waits for a user, gathered from every app.

core imports no domain app, so each app registers a source in its `AppConfig.ready()`:

    from core.inbox import Task, inbox_source

    @inbox_source
    def filings_to_review(user) -> list[Task]:
        ...

A source returns the tasks of `user` (an empty list for roles it does not concern) and must cost a
constant number of queries: the menu count runs every source on every page. A task may stand for a
group (`count`), e.g. "12 filings to review", linking to the filtered list."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

Source = Callable[[object], Iterable["Task"]]

_SOURCES: list[Source] = []


@dataclass(frozen=True)
class Task:
    kind: str  # stable key, e.g. "filing.review", used by tests and the API
    title: str  # translated, one line
    url: str
    count: int = 1
    due: date | None = None


def inbox_source(source: Source) -> Source:
    """Register `source`; returns it unchanged so it stays testable on its own."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def tasks_for(user) -> list[Task]:
    """Every task of `user`, the earliest due first (undated last), then by kind."""
    if user is None or not user.is_authenticated:
        return []
    tasks = [task for source in _SOURCES for task in source(user)]
    return sorted(tasks, key=lambda t: (t.due is None, t.due or date.max, t.kind))


def task_count(user) -> int:
    return sum(task.count for task in tasks_for(user))


# --- counts beside menu entries ----------------------------------------------------------------------
# The menu shows the inbox's task count beside 待办 and, through this registry, other counts beside other
# entries (the unread messages beside 消息). A counter costs a constant number of queries, like a source.

Counter = Callable[[object], int]

_COUNTERS: dict[str, Counter] = {}


def menu_counter(url_name: str):
    """Register `counter(user) -> int`, shown beside the menu entry of `url_name` when it is positive."""

    def decorator(counter: Counter) -> Counter:
        _COUNTERS[url_name] = counter
        return counter

    return decorator


def request_tasks(request) -> list[Task]:
    """`tasks_for(request.user)`, gathered once per request (the menu and the inbox page share them)."""
    if not hasattr(request, "_inbox_tasks"):
        request._inbox_tasks = tasks_for(getattr(request, "user", None))
    return request._inbox_tasks


def counted_entries() -> set[str]:
    """The url names of the menu entries that show a count (the inbox and each registered counter)."""
    return {"inbox", *_COUNTERS}


def menu_counts(request) -> dict[str, int]:
    """{url name: count} for the menu: the inbox's tasks and every registered counter."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    counts = {name: counter(user) for name, counter in _COUNTERS.items()}
    counts["inbox"] = sum(task.count for task in request_tasks(request))
    return counts
