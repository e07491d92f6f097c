"""Panels on a bank–guarantee agreement's page. A higher app (guarantees: the checks of each guarantee
under the agreement) adds one in its AppConfig.ready(), so that institutions never imports it:

    from institutions.panels import AgreementPanel, register
    register(AgreementPanel("guarantees", "guarantees/_agreement_panel.html", context))

`context(request, agreement)` returns the panel's template context (the agreement is already scoped)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe


@dataclass(frozen=True)
class AgreementPanel:
    key: str
    template: str
    context: Callable[..., dict]
    order: int = 100


AGREEMENT_PANELS: list[AgreementPanel] = []


def register(panel: AgreementPanel) -> None:
    AGREEMENT_PANELS[:] = [p for p in AGREEMENT_PANELS if p.key != panel.key] + [panel]
    AGREEMENT_PANELS.sort(key=lambda p: p.order)


def render_panels(request, agreement) -> list[str]:
    return [
        mark_safe(render_to_string(p.template, p.context(request, agreement), request=request))  # noqa: S308
        for p in AGREEMENT_PANELS
    ]
