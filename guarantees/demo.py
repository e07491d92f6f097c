"""Demo loan-level records for the two demo companies (成都中小, 绵阳科发), drawn so that the fields the
records determine agree with each company's filed 2026Q3 report — the in-force loan balance, the number
of guarantees and clients in force, the small/micro and farm balances, small/micro clients ≤ 500万, the
largest client, ten largest clients and largest group, and the 总对总 balance (the checks of
reporting's reconciliation) — except 绵阳科发, whose records lack five small guarantees (a deliberate,
visible difference). A few clients borrow from both companies (the regulator's shared borrowers), and
成都中小 has one refused batch whose error report can be downloaded.

The records go in through the real channel (batch_stage → batch_commit: validation, staging, merge), as
one batch per company; running the seed again sends the same rows and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import random
from decimal import ROUND_DOWN, Decimal

from django.db import transaction

from institutions.demo import demo_credit_code
from institutions.models import Bank, Institution

from .choices import BatchStatus, Channel
from .identifiers import id_check_char
from .models import ImportBatch

PERIOD_END = dt.date(2026, 9, 30)  # the demo's last filed quarter (reporting.demo.LAST)
COMPANIES = {
    "成都中小企业融资担保有限责任公司": {"region": "510104", "shortfall": 0, "seed": 1},
    "绵阳科发融资担保有限公司": {"region": "510703", "shortfall": 5, "seed": 2},
}
SHARED_CLIENTS = 4  # "other" clients with the same credit code at both companies
CENT = Decimal("0.01")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
TRADES = ["科技", "商贸", "食品", "机械", "建材", "农业", "电子", "物流", "服装", "餐饮", "印务", "医药"]
INDUSTRIES = ["C39", "F51", "C13", "C34", "C30", "A01", "C38", "G54", "C18", "H62", "C23", "F52"]


def _rng(key: str) -> random.Random:
    return random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))


def _split(total: Decimal, k: int, rng: random.Random, *, low: Decimal, high: Decimal) -> list[Decimal]:
    """k amounts in [low, high] (cents) summing exactly to total (low·k ≤ total ≤ high·k)."""
    assert low * k <= total <= high * k, (total, k, low, high)
    weights = [rng.uniform(0.3, 1.7) for _ in range(k)]
    scale = sum(weights)
    amounts = [min(high, max(low, (total * Decimal(w / scale)).quantize(CENT, ROUND_DOWN))) for w in weights]
    rest = total - sum(amounts)
    i = 0
    while rest != 0:  # put the remainder where there is room, a cent at a time in bulk steps
        j = i % k
        room = (high - amounts[j]) if rest > 0 else (low - amounts[j])
        step = min(rest, room) if rest > 0 else max(rest, room)
        amounts[j] += step
        rest -= step
        i += 1
    return amounts


def _person_id(region: str, n: int) -> str:
    birth = dt.date(1965, 1, 1) + dt.timedelta(days=(n * 37) % 12000)
    body = f"{region}{birth:%Y%m%d}{n % 1000:03d}"
    return body + id_check_char(body)


def records_for(values: dict, *, region: str, seed: int, banks: list[str]) -> list[dict]:
    """Guarantee rows (as the API takes them) whose derived fields at PERIOD_END equal `values`."""
    rng = _rng(f"guarantees-demo-{seed}")
    d = lambda code: Decimal(values[code])  # noqa: E731
    loan, count, n_clients = (
        d("loan_balance"),
        int(values["fin_inforce_count"]),
        int(values["fin_inforce_clients"]),
    )
    small_micro, farm = d("small_micro_balance"), d("farmer_small_micro_balance") - d("small_micro_balance")
    le5m, top1, top10 = d("loan_small_micro_le5m"), d("top1_client_liability"), d("top10_clients_liability")
    group, zdz = d("top1_group_liability"), d("batch_zdz_balance")
    tenth = ((top10 - top1) / 9).quantize(CENT, ROUND_DOWN)
    top = [top1] + [tenth] * 8 + [top10 - top1 - tenth * 8]  # the ten largest clients: small/micro
    partner = group - top1  # the largest client's group: it and one "other" client
    other = loan - small_micro - farm
    large_sm = small_micro - top10 - le5m  # small/micro clients above 500万 (below the ten largest)
    cap = tenth - CENT  # below the tenth largest, so the ten largest are those ten
    rest = n_clients - 10
    # as many clients per group as keeps the average inside the group's bounds
    k_large = max(1, math.ceil(large_sm / min(Decimal(1200), (500 + cap) / 2)))
    k_farm = max(1, math.ceil(farm / Decimal(150)))
    k_other = max(2, math.ceil(other / min(Decimal(600), (10 + cap) / 2)))
    k_small = rest - k_large - k_farm - k_other
    clients = []  # (type, balance)
    clients += [("small_micro", b) for b in top]
    clients += [("small_micro", b) for b in _split(large_sm, k_large, rng, low=Decimal("500.01"), high=cap)]
    clients += [("small_micro", b) for b in _split(le5m, k_small, rng, low=Decimal(20), high=Decimal(500))]
    clients += [("farmer", b) for b in _split(farm, k_farm, rng, low=Decimal(5), high=Decimal(200))]
    others = [partner] + _split(
        other - partner, k_other - 1, rng, low=Decimal(10), high=min(cap, group - CENT)
    )
    clients += [("other", b) for b in others]
    assert len(clients) == n_clients and sum(b for _, b in clients) == loan

    # guarantees per client: one each, and the extra ones to clients below the ten largest (split balance)
    per_client = [1] * n_clients
    for i in rng.sample(range(10, n_clients), count - 1 - n_clients):  # one more comes from the 总对总 split
        per_client[i] += 1
    rows: list[dict] = []
    n_person = 0
    for c, ((kind, balance), parts) in enumerate(zip(clients, per_client, strict=True)):
        person = kind == "farmer" or (kind == "small_micro" and c >= 10 and c % 9 == 0)
        client_type = "individual_business" if person and kind == "small_micro" else kind
        if person:
            n_person += 1
            identity = {"credit_code": "", "id_number": _person_id(region, seed * 100000 + n_person)}
            name = SURNAMES[c % len(SURNAMES)] + ("某" if c % 2 else "某某")
        else:
            shared = kind == "other" and 1 <= c - (n_clients - k_other) <= SHARED_CLIENTS
            number = (900 + c - (n_clients - k_other)) if shared else seed * 100000 + c
            identity = {
                "credit_code": demo_credit_code("510100" if shared else region, number),
                "id_number": "",
            }
            name = f"{'成都' if shared else ('成都' if region.startswith('5101') else '绵阳')}{TRADES[number % len(TRADES)]}{number % 997}有限公司"
        amounts = _split(balance, parts, rng, low=CENT, high=balance) if parts > 1 else [balance]
        for amount in amounts:
            rows.append(
                {
                    "client_name": name,
                    "client_type": client_type,
                    "industry": INDUSTRIES[c % len(INDUSTRIES)],
                    "region_code": "510104" if identity["credit_code"].startswith("91510100") else region,
                    "group_name": "蜀鑫控股集团" if c in (0, n_clients - k_other) else "",
                    "balance": amount,
                    **identity,
                }
            )
    # the 总对总 batch guarantees: the first rows of "other" clients until the balance is reached, the last
    # one split in two (one flagged, one not)
    flagged = Decimal(0)
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["client_type"] != "other", i))
    for i in order:
        if flagged + rows[i]["balance"] <= zdz:
            rows[i]["batch_zdz"] = "是"
            flagged += rows[i]["balance"]
            continue
        remainder = zdz - flagged
        if remainder > 0:
            rows.append({**rows[i], "balance": rows[i]["balance"] - remainder, "batch_zdz": "否"})
            rows[i]["balance"], rows[i]["batch_zdz"] = remainder, "是"
        else:  # reached exactly: still one split, so the count is what was filed
            half = (rows[i]["balance"] / 2).quantize(CENT, ROUND_DOWN)
            rows.append({**rows[i], "balance": rows[i]["balance"] - half, "batch_zdz": "否"})
            rows[i]["balance"] = half
        break
    assert len(rows) == count

    out = []
    for n, row in enumerate(rows, start=1):
        balance = row.pop("balance")
        start = PERIOD_END - dt.timedelta(days=rng.randrange(10, 700))
        term = rng.choice((365, 730, 1095))
        if start + dt.timedelta(days=term) <= PERIOD_END:
            term += 730
        share = (
            rng.choice((0, 0, 0, "0.1", "0.25")) if balance < 2000 else 0
        )  # large ones stay below 1亿 (no warning)
        released = (balance * Decimal(share)).quantize(CENT)
        guaranteed = balance + released
        rate = Decimal(rng.choice(("0.008", "0.01", "0.012", "0.015")))
        out.append(
            {
                "contract_no": f"DB{seed}-{start:%Y}-{n:05d}",
                "bank": banks[n % len(banks)],
                "other_lender": "",
                "loan_amount": str(guaranteed),
                "guaranteed_amount": str(guaranteed),
                "start_date": start.isoformat(),
                "end_date": (start + dt.timedelta(days=term)).isoformat(),
                "fee_rate": str(rate),
                "fee_amount": str((guaranteed * rate * term / 365).quantize(CENT)),
                "gov_backed": "是" if n % 3 else "否",
                "batch_zdz": "否",
                "reguarantee_provincial_share": "0.2" if n % 4 == 0 else "",
                "counter_guarantee": ("保证", "抵押", "无", "质押")[n % 4],
                **row,
                "_released": released,
                "_release_on": (start + (PERIOD_END - start) / 2).isoformat(),
            }
        )
    return out


def _history(seed: int, region: str, banks: list[str]) -> tuple[list[dict], list[dict]]:
    """Guarantees started and fully released before the period end, so the in-force trend has a past."""
    rng = _rng(f"guarantees-history-{seed}")
    rows, events = [], []
    for n in range(1, 241):
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(0, 560))
        amount = Decimal(rng.randrange(2000, 60000)) / 100
        end = start + dt.timedelta(days=365)
        contract = f"DB{seed}-H-{n:04d}"
        rows.append(
            {
                "contract_no": contract,
                "client_name": f"{'成都' if region.startswith('5101') else '绵阳'}往期客户{n}有限公司",
                "client_type": "small_micro",
                "credit_code": demo_credit_code(region, seed * 100000 + 50000 + n),
                "id_number": "",
                "region_code": region,
                "bank": banks[n % len(banks)],
                "loan_amount": str(amount),
                "guaranteed_amount": str(amount),
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "fee_rate": "0.01",
                "fee_amount": str((amount * Decimal("0.01")).quantize(CENT)),
            }
        )
        events.append(
            {
                "contract_no": contract,
                "kind": "解保",
                "occurred_on": min(end, PERIOD_END - dt.timedelta(days=1)).isoformat(),
                "amount": str(amount),
            }
        )
    return rows, events


def seed() -> dict[str, dict]:
    """Load the demo records (idempotent); per company: rows sent and what the commit changed."""
    from accounts.models import User
    from reporting.models import Filing

    from .services import batch_commit, batch_stage, batch_submit

    banks = list(Bank.objects.order_by("name").values_list("name", flat=True)[:5])
    summary = {}
    for name, spec in COMPANIES.items():
        institution = Institution.objects.filter(name=name).first()
        filing = (
            Filing.objects.filter(institution=institution, year=PERIOD_END.year, quarter=3)
            .select_related("current_version")
            .first()
        )
        actor = User.objects.filter(institution=institution, role="filer").first()
        if institution is None or filing is None or filing.current_version is None or actor is None:
            continue
        rows = records_for(
            filing.current_version.values, region=spec["region"], seed=spec["seed"], banks=banks
        )
        if spec["shortfall"]:  # the deliberate difference: five small guarantees never sent
            small = [
                i
                for i, r in enumerate(rows)
                if r["client_type"] == "small_micro" and Decimal(r["guaranteed_amount"]) < 300
            ]
            dropped = set(small[-spec["shortfall"] :])
            rows = [r for i, r in enumerate(rows) if i not in dropped]
        events = [
            {
                "contract_no": r["contract_no"],
                "kind": "解保",
                "occurred_on": r["_release_on"],
                "amount": str(r["_released"]),
            }
            for r in rows
            if r["_released"]
        ]
        for r in rows:
            del r["_released"], r["_release_on"]
        history, history_events = _history(spec["seed"], spec["region"], banks)
        guarantees = history + rows
        for i, r in enumerate(guarantees, start=2):
            r["source_row"] = i
        for i, e in enumerate(history_events + events, start=2):
            e["source_row"] = i
        # the same rows sent before: nothing to do (and nothing to audit)
        fingerprint = hashlib.sha256(
            json.dumps([guarantees, history_events + events], sort_keys=True, default=str).encode()
        ).hexdigest()[:16]
        source = f"demo {fingerprint}"
        if ImportBatch.objects.filter(
            institution=institution, source_name=source, status=BatchStatus.COMMITTED
        ).exists():
            summary[name] = {"rows": len(guarantees), "status": "unchanged"}
            continue
        with transaction.atomic():
            batch = batch_stage(actor=actor, institution=institution, channel=Channel.API, source_name=source)
            result = batch_commit(
                actor=actor,
                batch=batch,
                guarantees=guarantees,
                events=history_events + events,
                confirm_warnings=True,
            )
        batch.refresh_from_db()
        assert not result.errors, result.errors[:3]
        summary[name] = {"rows": len(guarantees), "status": batch.status, "created": batch.guarantees_created}
        if (
            spec["seed"] == 1
            and not ImportBatch.objects.filter(
                institution=institution, channel=Channel.API, source_name=""
            ).exists()
        ):
            # a correction batch sent with mistakes: it is refused and its error report is waiting
            bad = {k: v for k, v in guarantees[-1].items() if k != "source_row"}
            bad.update(guaranteed_amount="-50", fee_rate="1.5")
            batch_submit(
                actor=actor,
                institution=institution,
                channel=Channel.API,
                payload={
                    "guarantees": [
                        bad,
                        dict(
                            bad,
                            bank="不存在的银行",
                            end_date="2020-01-01",
                            fee_rate="0.01",
                            guaranteed_amount="30",
                        ),
                    ]
                },
            )
    return summary
