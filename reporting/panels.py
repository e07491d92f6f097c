"""Panels on a filing's pages (the filing page and the review page). A higher app adds one with one line
in its AppConfig.ready(), so that reporting never imports it:

    from reporting.panels import FilingPanel, register
    register(FilingPanel("indicators", "supervision/_filing_summary.html", filing_summary_context))

`context(filing)` returns the panel's template context; `frozen_only` panels show only once the shown
version has been submitted (a draft has nothing computed yet)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FilingPanel:
    key: str
    template: str
    context: Callable[..., dict]
    frozen_only: bool = True
    order: int = 100


FILING_PANELS: list[FilingPanel] = []


def register(panel: FilingPanel) -> None:
    FILING_PANELS[:] = [p for p in FILING_PANELS if p.key != panel.key] + [panel]
    FILING_PANELS.sort(key=lambda p: p.order)
