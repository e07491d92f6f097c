"""Rows as a channel sends them, valid unless a test changes a column, and a loader through the real
services (stage, validate, commit)."""

from __future__ import annotations

from guarantees.identifiers import id_check_char
from guarantees.services import batch_commit, batch_stage
from institutions.demo import demo_credit_code

ICBC = "中国工商银行成都分行"
ABC = "中国农业银行绵阳分行"
BANKS = (ICBC, ABC)


def org_code(n: int, region: str = "510104") -> str:
    return demo_credit_code(region, 7_000_000 + n)


def person_id(n: int) -> str:
    """A valid 18-character resident ID number (GB 11643 check character computed)."""
    body = f"51010419800101{n:03d}"
    return body + id_check_char(body)


def guarantee_row(source_row: int = 2, **changes) -> dict:
    row = {
        "source_row": source_row,
        "contract_no": f"HT-{source_row:04d}",
        "client_name": "成都甲科技有限公司",
        "client_type": "小微企业",
        "credit_code": org_code(1),
        "id_number": "",
        "industry": "C39",
        "region_code": "510104",
        "group_name": "",
        "bank": ICBC,
        "other_lender": "",
        "loan_amount": "120",
        "guaranteed_amount": "100",
        "start_date": "2025-03-01",
        "end_date": "2026-03-01",
        "fee_rate": "0.015",
        "fee_amount": "1.5",
        "product_line": "",
        "gov_backed": "否",
        "batch_zdz": "否",
        "reguarantee_provincial_share": "",
        "national_fund_share": "",
        "counter_guarantee": "",
    }
    row.update(changes)
    return row


def person_row(source_row: int = 2, n: int = 1, **changes) -> dict:
    return guarantee_row(
        source_row,
        **{
            "client_name": "张三",
            "client_type": "农户",
            "credit_code": "",
            "id_number": person_id(n),
            **changes,
        },
    )


def event_row(source_row: int = 2, **changes) -> dict:
    row = {
        "source_row": source_row,
        "contract_no": "HT-0002",
        "kind": "解保",
        "occurred_on": "2025-06-01",
        "amount": "30",
        "interest": "",
    }
    row.update(changes)
    return row


def load(user, institution, guarantees, events=(), *, confirm: bool = False):
    """Stage and commit a batch as `user`; (batch, validation result)."""
    batch = batch_stage(actor=user, institution=institution, channel="upload", source_name="test.xlsx")
    result = batch_commit(
        actor=user, batch=batch, guarantees=list(guarantees), events=list(events), confirm_warnings=confirm
    )
    return batch, result
