"""One validation for every channel that brings loan-level records (upload, API): pure, no ORM.

`validate_batch` takes the guarantee rows and the event rows (pandas DataFrames or lists of dicts keyed
by the column codes below, each row with its `source_row`, the row number the filer sees) and what it
must know of the database: bank names, the contract numbers already stored for the institution, the
product lines, region codes, the magnitude rules in force and the key for hashing ID numbers. It returns
typed rows (Decimal amounts, dates, choice codes; ID numbers replaced by their keyed hash and last four)
and findings, each naming sheet, row and column with a message.

Checks run column by column over the whole batch (vectorised with pandas), so a million rows cost
seconds. Errors block the commit; warnings (magnitude rules: an amount that looks like 元 where 万元 is
asked, a rate that looks like a percentage) must be confirmed by the filer.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from core.exceptions import Bilingual, Text
from institutions.validators import is_valid_credit_code

from .choices import ClientType, CounterGuarantee, EventKind, IdKind, Sheet
from .identifiers import id_last_four, id_number_hash, is_valid_id_number, masked_id, normalise_id_number

ERROR = "error"
WARNING = "warning"

# Each sheet and each column in both languages, (Chinese, English): the template is written in the
# reader's language and an upload is read in either (the column code is accepted too).
SHEET_TITLES = {Sheet.GUARANTEES: ("担保明细", "Guarantees"), Sheet.EVENTS: ("担保事件", "Guarantee events")}
HEADERS = {
    Sheet.GUARANTEES: {
        "contract_no": ("担保合同编号", "Guarantee contract number"),
        "client_name": ("客户名称", "Client name"),
        "client_type": ("客户类型", "Client type"),
        "credit_code": ("统一社会信用代码", "Unified social credit code"),
        "id_number": ("身份证号码", "Resident ID number"),
        "industry": ("所属行业", "Industry"),
        "region_code": ("客户所在地区代码", "Client region code"),
        "group_name": ("所属集团（关联方）", "Group (related parties)"),
        "bank": ("贷款银行", "Lending bank"),
        "other_lender": ("其他债权人", "Other lender"),
        "loan_amount": ("借款金额（万元）", "Loan amount (10k yuan)"),
        "guaranteed_amount": ("担保金额（万元）", "Guaranteed amount (10k yuan)"),
        "start_date": ("起始日期", "Start date"),
        "end_date": ("到期日期", "End date"),
        "fee_rate": ("年化担保费率", "Annualised fee rate"),
        "fee_amount": ("担保费（万元）", "Guarantee fee (10k yuan)"),
        "product_line": ("业务品种", "Product line"),
        "gov_backed": ("政府性融资担保业务", "Government-backed business"),
        "batch_zdz": ("银担“总对总”批量担保", "Bank–guarantee head-office batch"),
        "reguarantee_provincial_share": ("省级再担保分险比例", "Provincial re-guarantee share"),
        "national_fund_share": ("国家融资担保基金分险比例", "National Fund share"),
        "counter_guarantee": ("反担保方式", "Counter-guarantee"),
    },
    Sheet.EVENTS: {
        "contract_no": ("担保合同编号", "Guarantee contract number"),
        "kind": ("事件类型", "Event type"),
        "occurred_on": ("发生日期", "Event date"),
        "amount": ("金额（万元）", "Amount (10k yuan)"),
        "interest": ("代偿利息（万元）", "Compensated interest (10k yuan)"),
    },
}
SHEET_NAMES = {sheet: zh for sheet, (zh, _en) in SHEET_TITLES.items()}
GUARANTEE_COLUMNS = {code: zh for code, (zh, _en) in HEADERS[Sheet.GUARANTEES].items()}
EVENT_COLUMNS = {code: zh for code, (zh, _en) in HEADERS[Sheet.EVENTS].items()}
COLUMNS = {Sheet.GUARANTEES: GUARANTEE_COLUMNS, Sheet.EVENTS: EVENT_COLUMNS}


def sheet_title(sheet: str) -> Bilingual:
    """The sheet's name in both languages (shown in the reader's)."""
    return Bilingual(*SHEET_TITLES[sheet])


def column_title(sheet: str, code: str) -> Bilingual:
    """The column's header in both languages (shown in the reader's)."""
    return Bilingual(*HEADERS[sheet][code])


# Words a filer may write in a choice column, besides the code itself (plain str: a database driver
# may dump an Enum member by its name).
CLIENT_TYPES = {
    "小微企业": ClientType.SMALL_MICRO.value,
    "个体工商户": ClientType.INDIVIDUAL_BUSINESS.value,
    "农户": ClientType.FARMER.value,
    "其他": ClientType.OTHER.value,
}
EVENT_KINDS = {
    "解保": EventKind.RELEASE.value,
    "代偿": EventKind.COMPENSATION.value,
    "追偿": EventKind.RECOVERY.value,
    "核销": EventKind.WRITE_OFF.value,
}
COUNTER_GUARANTEES = {
    "无": CounterGuarantee.NONE.value,
    "信用": CounterGuarantee.NONE.value,
    "抵押": CounterGuarantee.MORTGAGE.value,
    "质押": CounterGuarantee.PLEDGE.value,
    "保证": CounterGuarantee.SURETY.value,
    "其他": CounterGuarantee.OTHER.value,
}
YES_NO = {
    "是": True,
    "否": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "1": True,
    "0": False,
    "true": True,
    "false": False,
}
DEFAULT_PRODUCT_LINE = "general"
# Text columns and the length their database column holds (test_validation checks them against the models).
MAX_LENGTH = {"contract_no": 64, "client_name": 200, "industry": 64, "group_name": 200, "other_lender": 200}
MAX_AMOUNT = 10**14  # numeric(16, 2): 万元 below 10^14

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")
SHARE_PLACES = Decimal("0.0001")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # serial 1 = 1900-01-01 past Excel's phantom 1900-02-29
EARLIEST, LATEST = pd.Timestamp("1990-01-01"), pd.Timestamp("2099-12-31")
_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?$"
_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_SERIAL = r"^\d{1,5}$"


@dataclass(frozen=True)
class Finding:
    """`message` in Chinese and `message_en` in English, both made when the batch is checked: findings are
    stored with the batch and shown later to readers of either language ({{ f|localized:"message" }})."""

    severity: str
    rule: str
    sheet: str
    row: int
    column: str
    message: str
    message_en: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MagnitudeLimit:
    """A value above `limit` in `column` is a warning (policy data: guarantees.MagnitudeRule; a column
    code names one column across the two sheets)."""

    column: str
    limit: Decimal


@dataclass
class ValidationResult:
    """Typed rows (one client row per identity; ID numbers never included) and the findings."""

    clients: pd.DataFrame
    guarantees: pd.DataFrame
    events: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]


def normalise_text(value: object) -> str:
    """A cell as the text a person reads: '' for empty, 123 rather than 123.0, a date as 2025-03-01."""
    if type(value) is str:
        return value.strip()
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


_ID_LIKE = re.compile(r"\d{17}[\dXx]|\d{15}")


def _quote(value: object, limit: int = 30) -> object:
    """A filer's cell as a message shows it: anything shaped like a resident ID number (in whatever
    column it was put) masked to its last four, and cut short."""
    if not isinstance(value, str):
        return value
    value = _ID_LIKE.sub(lambda m: masked_id(m.group()[-4:]), value)
    return value[:limit] + "…" if len(value) > limit else value


def _each(series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """fn on every value, as a plain object Series (no dtype inference: cheaper than Series.map)."""
    return pd.Series([fn(v) for v in series.tolist()], index=series.index, dtype=object)


def _per_unique(series: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """fn once per distinct value (clients repeat across their guarantees)."""
    results = {v: fn(v) for v in series.unique()}
    return _each(series, results.__getitem__)


class _SheetCheck:
    """The cells of one sheet as text, and the findings about them."""

    def __init__(self, sheet: str, rows: pd.DataFrame | Iterable[Mapping], findings: list[Finding]):
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0 or frame.index.step != 1:
            frame = frame.reset_index(drop=True)
        if "source_row" not in frame:  # the caller's frame is read, never changed (no copy of a large batch)
            frame = frame.assign(source_row=range(1, len(frame) + 1))
        self.sheet = sheet
        self.frame = frame
        self.rows = frame["source_row"].astype(int)
        self.findings = findings
        self._text: dict[str, pd.Series] = {}

    def __len__(self) -> int:
        return len(self.frame)

    def text(self, column: str) -> pd.Series:
        if column not in self._text:
            cells = self.frame[column] if column in self.frame else pd.Series([""] * len(self.frame))
            # Inline the common case (a str): one function call less per cell.
            values = [v.strip() if type(v) is str else normalise_text(v) for v in cells.tolist()]
            text = self._text[column] = pd.Series(values, index=cells.index, dtype=object)
            if column in MAX_LENGTH:
                limit = MAX_LENGTH[column]
                self.flag(
                    _each(text, len) > limit,
                    "too_long",
                    column,
                    gettext_lazy("内容超过 %(limit)s 个字符"),
                    fixed={"limit": limit},
                )
        return self._text[column]

    def flag(
        self,
        mask: pd.Series,
        rule: str,
        column: str,
        message: Text,
        severity: str = ERROR,
        fixed: dict | None = None,
        **values: pd.Series,
    ) -> None:
        """One finding per row in `mask`, in both languages; %(name)s in `message` (a gettext_lazy
        source) is filled from `fixed` and from values[name] of that row (a Series over all rows or only
        over the flagged ones)."""
        if not mask.any():
            return
        flagged = mask.index[mask.to_numpy(dtype=bool)]
        picked = {name: [_quote(v) for v in series.loc[flagged].tolist()] for name, series in values.items()}
        texts = {}
        for language in ("zh-hans", "en"):  # each template translated once, then filled row by row
            with translation.override(language):
                texts[language] = (
                    gettext("工作表“%(sheet)s”第%(row)s行“%(label)s”列：%(text)s"),
                    str(message),
                    {"sheet": str(sheet_title(self.sheet)), "label": str(column_title(self.sheet, column))},
                )
        for i, row in enumerate(self.rows.loc[flagged].tolist()):
            context = {**(fixed or {}), **{name: items[i] for name, items in picked.items()}}
            zh, en = (
                (prefix % {**where, "row": row, "text": text % context})
                for prefix, text, where in texts.values()
            )
            self.findings.append(
                Finding(
                    severity=severity,
                    rule=rule,
                    sheet=self.sheet,
                    row=row,
                    column=column,
                    message=zh,
                    message_en=en,
                )
            )

    # ---- typed columns ---------------------------------------------------------------------------
    def required(self, column: str) -> pd.Series:
        """The column's text; an empty cell is an error."""
        text = self.text(column)
        self.flag(text == "", "required", column, gettext_lazy("必填项为空"))
        return text

    def amount(self, column: str, *, required: bool = True) -> pd.Series:
        """万元 with 2 decimals (half up). Non-numeric and negative values are errors; an empty optional
        cell is 0."""
        text = _each(self.text(column), lambda t: t.replace(",", "").replace("，", ""))
        empty = text == ""
        if required:
            self.flag(empty, "required", column, gettext_lazy("必填项为空"))
        number = pd.to_numeric(text.where(~empty), errors="coerce").astype(float)
        bad = ~empty & ~np.isfinite(number)
        self.flag(bad, "not_a_number", column, gettext_lazy("“%(v)s”不是数字"), v=text)
        negative = ~bad & (number < 0)
        self.flag(negative, "negative", column, gettext_lazy("金额不能为负数：%(v)s"), v=text)
        too_large = ~bad & (number >= MAX_AMOUNT)
        self.flag(
            too_large,
            "too_large",
            column,
            gettext_lazy("金额 %(v)s 超出可记录范围"),
            v=text,
        )
        good = ~empty & ~bad & ~negative & ~too_large
        values = pd.Series([None if required else Decimal("0.00")] * len(text), dtype=object)
        values[good] = [Decimal(t).quantize(CENT, ROUND_HALF_UP) for t in text[good].tolist()]
        return values

    def ratio(self, column: str, *, required: bool, places: Decimal) -> pd.Series:
        """A fraction (0.015 = 1.5 %); "1.5%" with the sign is read as 0.015. A number above 1 is an
        error that says what it probably meant: 1.5 in a rate column is 1.5 %."""
        text = self.text(column)
        empty = text == ""
        if required:
            self.flag(empty, "required", column, gettext_lazy("必填项为空"))
        bare = _each(text, lambda t: t[:-1].strip() if t.endswith("%") else t)
        percent_sign = bare != text
        number = pd.to_numeric(bare.where(~empty), errors="coerce").astype(float)
        bad = ~empty & ~np.isfinite(number)
        self.flag(bad, "not_a_number", column, gettext_lazy("“%(v)s”不是数字"), v=text)
        negative = ~bad & (number < 0)
        self.flag(negative, "negative", column, gettext_lazy("比例不能为负数：%(v)s"), v=text)
        over = ~bad & ~percent_sign & (number > 1)
        as_percent = over & (number <= 100)
        self.flag(
            as_percent,
            "rate_in_percent",
            column,
            gettext_lazy("应填写小数（1%% 填 0.01）；%(v)s 大于 1，很可能是指 %(v)s%%，即应填 %(fraction)s"),
            v=text,
            fraction=_each(bare[as_percent], _percent_as_fraction),
        )
        above_100 = (over & ~as_percent) | (~bad & percent_sign & (number > 100))
        self.flag(above_100, "rate_above_100", column, gettext_lazy("比例 %(v)s 超过 100%%"), v=text)
        good = ~empty & ~bad & ~negative & ~over & ~above_100
        values = pd.Series([None if required else Decimal(0).quantize(places)] * len(text), dtype=object)
        scale = percent_sign[good].map({True: Decimal(100), False: Decimal(1)}).tolist()
        values[good] = [
            (Decimal(t) / s).quantize(places, ROUND_HALF_UP)
            for t, s in zip(bare[good].tolist(), scale, strict=True)
        ]
        return values

    def date(self, column: str) -> pd.Series:
        """Timestamps (NaT where empty or wrong) from dates as written in spreadsheets: 2025-03-01,
        2025/3/1, 2025.3.1, 2025年3月1日, 20250301, an Excel serial number (45717) or a date cell. A date
        outside 1990–2099 is a misreading (a year alone, 2025, would otherwise be serial day 2025)."""
        text = self.required(column)
        stamps = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")  # the usual case, parsed in C
        rest = stamps.isna() & (text != "")
        if rest.any():
            other = text[rest]
            parts = other.str.extract(_YMD).fillna(other.str.extract(_COMPACT))
            parts.columns = ["year", "month", "day"]
            stamps[rest] = pd.to_datetime(parts.astype(float), errors="coerce")
            serial = other[other.str.fullmatch(_SERIAL).astype(bool)]
            stamps[serial.index] = EXCEL_EPOCH + pd.to_timedelta(serial.astype(int), unit="D")
        bad = (text != "") & (stamps.isna() | (stamps < EARLIEST) | (stamps > LATEST))
        self.flag(
            bad,
            "not_a_date",
            column,
            gettext_lazy(
                "“%(v)s”不是可识别的日期（可填写 2025-03-01、2025/3/1、2025年3月1日、20250301 或 Excel 日期序列号）"
            ),
            v=text,
        )
        return stamps.where(~bad)

    def choice(
        self, column: str, words: Mapping[str, str], *, default: str | None = None, choices=None
    ) -> pd.Series:
        """A code from its Chinese word, the code itself or (with `choices`, the TextChoices of the
        column) its English label, in any case; empty gives `default` (or an error)."""
        text = self.text(column)
        lookup = {**{code: code for code in words.values()}, **words}
        if choices is not None:
            with translation.override("en"):
                lookup.update({str(label).lower(): value for value, label in choices.choices})
        codes = _each(text, lambda t: lookup.get(t) or lookup.get(t.lower()))
        empty = text == ""
        if default is None:
            self.flag(empty, "required", column, gettext_lazy("必填项为空"))
        else:
            codes[empty] = default
        self.flag(
            ~empty & codes.isna(),
            "unknown_choice",
            column,
            gettext_lazy("“%(v)s”不是可选值（可填写：%(allowed)s）"),
            fixed={"allowed": "、".join(dict.fromkeys(words))},
            v=text,
        )
        return codes.astype(object).where(codes.notna(), None)

    def magnitude(self, values: pd.Series, column: str, limits: Sequence[MagnitudeLimit]) -> None:
        for rule in limits:
            if rule.column != column:
                continue
            above = pd.Series([v is not None and v > rule.limit for v in values.tolist()], index=values.index)
            money = column != "fee_rate" and not column.endswith("_share")
            self.flag(
                above,
                "magnitude",
                column,
                gettext_lazy("%(v)s 超过核对上限 %(limit)s，疑似按元而非万元填报，请核实后确认")
                if money
                else gettext_lazy("%(v)s 超过核对上限 %(limit)s，疑似填写了百分数，请核实后确认"),
                severity=WARNING,
                fixed={"limit": f"{rule.limit.normalize():f}"},
                v=values,
            )


def _dates(stamps: pd.Series) -> pd.Series:
    """datetime.date objects (None where missing), as the database and COPY take them."""
    dates = pd.Series(stamps.dt.date, index=stamps.index, dtype=object)
    return dates.where(stamps.notna(), None)


def _percent_as_fraction(text: str) -> str:
    try:
        return f"{(Decimal(text) / 100).normalize():f}"
    except ArithmeticError:
        return ""


def _yes_no(check: _SheetCheck, column: str) -> pd.Series:
    text = check.text(column)
    values = _each(text, lambda t: YES_NO.get(t.lower(), False if t == "" else None))
    check.flag(
        values.isna(),
        "unknown_choice",
        column,
        gettext_lazy("“%(v)s”不是可选值（是/否）"),
        v=text,
    )
    return values.fillna(False).astype(bool)


def _clients(check: _SheetCheck, hash_key: bytes, known_regions: Collection[str]) -> pd.DataFrame:
    """Client identity and attributes for each guarantee row (columns id_kind, id_key, id_last4, …)."""
    name = check.required("client_name")
    client_type = check.choice("client_type", CLIENT_TYPES, choices=ClientType)
    code = _each(check.text("credit_code"), str.upper)
    id_number = _each(check.text("id_number"), normalise_id_number)
    has_code, has_id = code != "", id_number != ""
    check.flag(
        has_code == has_id,
        "one_identifier",
        "credit_code",
        gettext_lazy("统一社会信用代码和身份证号码须填写且只填写其一"),
    )
    code_ok = _per_unique(code, is_valid_credit_code).astype(bool)
    check.flag(
        has_code & ~has_id & ~code_ok,
        "bad_credit_code",
        "credit_code",
        gettext_lazy("统一社会信用代码“%(v)s”无效：应为18位且校验位符合 GB 32100-2015"),
        v=code,
    )
    last4 = _each(id_number, id_last_four)
    id_ok = _per_unique(id_number, is_valid_id_number).astype(bool)
    check.flag(
        has_id & ~has_code & ~id_ok,
        "bad_id_number",
        "id_number",
        gettext_lazy("身份证号码（尾号%(v)s）无效：应为18位，出生日期真实且校验位符合 GB 11643"),
        v=last4,
    )
    org, person = has_code & ~has_id & code_ok, has_id & ~has_code & id_ok
    check.flag(
        person & (client_type == ClientType.SMALL_MICRO),
        "identifier_for_type",
        "credit_code",
        gettext_lazy("小微企业应填写统一社会信用代码"),
    )
    check.flag(
        org & (client_type == ClientType.FARMER),
        "identifier_for_type",
        "id_number",
        gettext_lazy("农户应填写身份证号码"),
    )
    region = check.text("region_code")
    check.flag(
        (region != "") & ~region.isin(known_regions),
        "unknown_region",
        "region_code",
        gettext_lazy("地区代码“%(v)s”不是有效的 GB/T 2260 行政区划代码"),
        v=region,
    )
    hashes = _per_unique(id_number[person], lambda n: id_number_hash(n, hash_key))
    clients = pd.DataFrame(
        {
            "id_kind": pd.Series([IdKind.CREDIT_CODE.value] * len(check), dtype=object).where(
                org, IdKind.RESIDENT_ID.value
            ),
            "id_key": code.where(org, hashes.reindex(code.index)),
            "id_last4": last4.where(person, ""),
            "name": name,
            "client_type": client_type,
            "industry": check.text("industry"),
            "region_id": region.where(region != "", None),
            "group_name": check.text("group_name"),
        }
    )
    clients.loc[~(org | person), ["id_kind", "id_key"]] = None
    # One identity, one description: the commit writes one row per client.
    identified = clients["id_key"].notna()
    attributes = ["name", "client_type", "industry", "region_id", "group_name"]
    keyed = clients[identified]
    first = keyed.groupby(["id_kind", "id_key"], sort=False)[attributes].transform("first")
    first_row = (
        check.rows[identified].groupby([keyed["id_kind"], keyed["id_key"]], sort=False).transform("first")
    )
    differs = pd.Series(False, index=clients.index)
    differs[identified] = (keyed[attributes].fillna("") != first.fillna("")).any(axis=1)
    check.flag(
        differs,
        "client_inconsistent",
        "client_name",
        gettext_lazy("同一客户（同一证件）在第%(first)s行的名称、类型、行业、地区或所属集团与本行不同"),
        first=first_row.reindex(clients.index),
    )
    return clients


def _guarantees(
    check: _SheetCheck,
    *,
    known_banks: Collection[str],
    product_lines: Mapping[str, str],
    limits: Sequence[MagnitudeLimit],
) -> pd.DataFrame:
    contract = check.required("contract_no")
    repeated = (contract != "") & contract.duplicated(keep="first")
    first_row = check.rows.groupby(contract, sort=False).transform("first")
    check.flag(
        repeated,
        "duplicate_contract",
        "contract_no",
        gettext_lazy("担保合同编号“%(v)s”与第%(first)s行重复"),
        v=contract,
        first=first_row,
    )
    bank, other = check.text("bank"), check.text("other_lender")
    check.flag(
        (bank == "") == (other == ""),
        "one_lender",
        "bank",
        gettext_lazy("贷款银行和其他债权人须填写且只填写其一"),
    )
    check.flag(
        (bank != "") & (other == "") & ~bank.isin(known_banks),
        "unknown_bank",
        "bank",
        gettext_lazy("贷款银行“%(v)s”不在银行名录中（非银行债权人请填写在“其他债权人”列）"),
        v=bank,
    )
    loan_amount = check.amount("loan_amount")
    guaranteed = check.amount("guaranteed_amount")
    fee_amount = check.amount("fee_amount")
    fee_rate = check.ratio("fee_rate", required=True, places=RATE_PLACES)
    start, end = check.date("start_date"), check.date("end_date")
    check.flag(
        end < start,
        "end_before_start",
        "end_date",
        gettext_lazy("到期日期 %(end)s 早于起始日期 %(start)s"),
        end=end.dt.strftime("%Y-%m-%d"),
        start=start.dt.strftime("%Y-%m-%d"),
    )
    typed = pd.DataFrame(
        {
            "source_row": check.rows,
            "contract_no": contract,
            "bank": bank,
            "other_lender": other,
            "loan_amount": loan_amount,
            "guaranteed_amount": guaranteed,
            "start_date": _dates(start),
            "end_date": _dates(end),
            "fee_rate": fee_rate,
            "fee_amount": fee_amount,
            "product_line": check.choice("product_line", product_lines, default=DEFAULT_PRODUCT_LINE),
            "gov_backed": _yes_no(check, "gov_backed"),
            "batch_zdz": _yes_no(check, "batch_zdz"),
            "reguarantee_provincial_share": check.ratio(
                "reguarantee_provincial_share", required=False, places=SHARE_PLACES
            ),
            "national_fund_share": check.ratio("national_fund_share", required=False, places=SHARE_PLACES),
            "counter_guarantee": check.choice(
                "counter_guarantee",
                COUNTER_GUARANTEES,
                default=CounterGuarantee.NONE.value,
                choices=CounterGuarantee,
            ),
        }
    )
    for column in ("loan_amount", "guaranteed_amount", "fee_amount", "fee_rate"):
        check.magnitude(typed[column], column, limits)
    return typed


def _events(
    check: _SheetCheck,
    *,
    contracts: set[str],
    known_contracts: Collection[str],
    limits: Sequence[MagnitudeLimit],
) -> pd.DataFrame:
    contract = check.required("contract_no")
    known = contract.isin(contracts) | contract.isin(known_contracts)
    check.flag(
        (contract != "") & ~known,
        "unknown_contract",
        "contract_no",
        gettext_lazy("担保合同编号“%(v)s”既不在本批次中，也未曾报送"),
        v=contract,
    )
    kind = check.choice("kind", EVENT_KINDS, choices=EventKind)
    amount = check.amount("amount")
    interest = check.amount("interest", required=False)
    check.flag(
        (kind != EventKind.COMPENSATION) & kind.notna() & _each(interest, lambda v: bool(v)).astype(bool),
        "interest_not_compensation",
        "interest",
        gettext_lazy("只有代偿事件填写利息"),
    )
    typed = pd.DataFrame(
        {
            "source_row": check.rows,
            "contract_no": contract,
            "kind": kind,
            "occurred_on": _dates(check.date("occurred_on")),
            "amount": amount,
            "interest": interest,
        }
    )
    check.magnitude(amount, "amount", limits)
    # The same event sent twice is one event (the commit deduplicates stored ones the same way).
    return typed.drop_duplicates(["contract_no", "kind", "occurred_on", "amount"], keep="last")


def validate_batch(
    guarantees: pd.DataFrame | Iterable[Mapping],
    events: pd.DataFrame | Iterable[Mapping],
    *,
    known_banks: Collection[str],
    known_contracts: Collection[str],
    product_lines: Mapping[str, str],
    known_regions: Collection[str],
    limits: Sequence[MagnitudeLimit],
    hash_key: bytes,
) -> ValidationResult:
    """Check a batch and type its rows. `product_lines` maps what a filer may write (the Chinese name)
    to the line's code; `known_contracts` are the institution's stored contract numbers (those the
    events refer to suffice)."""
    findings: list[Finding] = []
    g = _SheetCheck(Sheet.GUARANTEES, guarantees, findings)
    e = _SheetCheck(Sheet.EVENTS, events, findings)
    client_rows = _clients(g, hash_key, set(known_regions))
    typed = _guarantees(g, known_banks=set(known_banks), product_lines=product_lines, limits=limits)
    typed.insert(2, "id_kind", client_rows["id_kind"])
    typed.insert(3, "id_key", client_rows["id_key"])
    contracts = set(typed["contract_no"]) - {""}
    typed_events = _events(e, contracts=contracts, known_contracts=set(known_contracts), limits=limits)
    clients = client_rows[client_rows["id_key"].notna()].drop_duplicates(["id_kind", "id_key"], keep="first")
    sheet_order = {Sheet.GUARANTEES: 0, Sheet.EVENTS: 1}
    column_order = {s: {c: i for i, c in enumerate(COLUMNS[s])} for s in COLUMNS}
    findings.sort(key=lambda f: (sheet_order[f.sheet], f.row, column_order[f.sheet][f.column], f.rule))
    return ValidationResult(
        clients=clients.reset_index(drop=True),
        guarantees=typed.reset_index(drop=True),
        events=typed_events.reset_index(drop=True),
        findings=findings,
    )
