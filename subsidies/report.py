"""The subsidies' section of the annual supervision report (规程 art. 21, part three: development work),
plugged into supervision's registry of report sections (supervision does not import subsidies)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from supervision.report_sections import SectionContent, Table

from .selectors import annual_report_figures


def subsidies_section(user, region_code: str, year: int) -> SectionContent | None:
    """Per scheme: applications approved, amounts approved and paid (万元); None when there were none."""
    rows = annual_report_figures(region_code=region_code, year=year, user=user)
    if not rows:
        return None
    approved = sum((r["approved_amount"] for r in rows), Decimal(0))
    paid = sum((r["paid_amount"] for r in rows), Decimal(0))
    count = sum(r["approved_count"] for r in rows)
    return SectionContent(
        lines=[
            _(
                "%(year)s年，财政部门批准担保费补贴、降费奖补和风险补偿申请 %(n)s 笔，金额 %(approved)s 万元，已拨付 %(paid)s 万元。"
            )
            % {"year": year, "n": count, "approved": approved, "paid": paid}
        ],
        tables=[
            Table(
                header=[
                    _("补贴方案"),
                    _("批准笔数"),
                    _("批准金额（万元）"),
                    _("已拨付笔数"),
                    _("已拨付金额（万元）"),
                ],
                rows=[
                    [r["name"], r["approved_count"], r["approved_amount"], r["paid_count"], r["paid_amount"]]
                    for r in rows
                ],
                title=_("补贴与风险补偿"),
            )
        ],
        chart={
            "title": _("批准金额（万元）"),
            "labels": [r["name"] for r in rows],
            "values": [float(r["approved_amount"]) for r in rows],
        },
        figures={"subsidy_applications": count, "subsidy_approved": approved, "subsidy_paid": paid},
    )
