"""The registry of annual-report sections (规程 art. 21). Each of the eight parts holds data sections
(tables and charts filled from the database) and an editable narrative. An app registers a section in
its AppConfig.ready(), so a higher app (subsidies) contributes without supervision importing it:

    from supervision.report_sections import ReportSection, register_section
    register_section(ReportSection("subsidies", "development", _("担保费补贴"), build, order=50))

`build(user, region_code, year)` returns a `SectionContent` (or None to leave the section out) and must
read through `for_user(user)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

PARTS = [
    ("overview", _("一、行业概况及变化情况")),
    ("supervision", _("二、监管工作开展情况")),
    ("development", _("三、行业发展工作开展情况")),
    ("practice", _("四、好的经验做法")),
    ("risks", _("五、存在的问题和风险")),
    ("violations", _("六、违法违规及不合规情况")),
    ("next", _("七、下一步工作安排")),
    ("other", _("八、其他事项")),
]
PART_KEYS = [k for k, _label in PARTS]


@dataclass
class Table:
    header: list[str]
    rows: list[list]
    title: str = ""


@dataclass
class SectionContent:
    lines: list[str] = field(default_factory=list)  # sentences with the figures
    tables: list[Table] = field(default_factory=list)
    chart: dict | None = None  # {"title", "labels", "values"} for an ECharts bar chart on the page
    figures: dict = field(default_factory=dict)  # named numbers (tests and roll-ups read them)


@dataclass(frozen=True)
class ReportSection:
    key: str
    part: str
    title: str
    build: Callable[..., SectionContent | None]
    order: int = 100


_SECTIONS: list[ReportSection] = []


def register_section(section: ReportSection) -> None:
    if section.part not in PART_KEYS:
        raise ValueError(f"unknown report part {section.part!r}")
    _SECTIONS[:] = [s for s in _SECTIONS if s.key != section.key] + [section]
    _SECTIONS.sort(key=lambda s: (PART_KEYS.index(s.part), s.order, s.key))


def sections(part: str | None = None) -> list[ReportSection]:
    return [s for s in _SECTIONS if part is None or s.part == part]
