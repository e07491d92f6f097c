from reporting import services
from reporting.periods import Period

from .sample import GOOD_Q1, GOOD_Q2, PRIOR_Q4


def file_and_submit(institution, period, values, *, maker, checker, explanations=None, nil=False):
    filing, version, _findings = services.filing_save_draft(
        actor=maker,
        institution=institution,
        period=Period.parse(period) if isinstance(period, str) else period,
        values=values,
        nil_return=nil,
    )
    services.filing_submit(actor=checker, filing=filing, explanations=explanations or {})
    filing.refresh_from_db()
    return filing


def history(institution, users):
    """Prior year Q4 and this year's Q1 submitted for 2025, so a 2025Q2 filing has both comparisons."""
    maker, checker = users["cd_filer"], users["cd_approver"]
    file_and_submit(institution, "2024Q4", PRIOR_Q4, maker=maker, checker=checker, explanations={})
    file_and_submit(institution, "2025Q1", GOOD_Q1, maker=maker, checker=checker)


__all__ = ["GOOD_Q1", "GOOD_Q2", "PRIOR_Q4", "file_and_submit", "history"]
