"""Every rule of the one validation, with its exact message, row and column. Pure: no database."""

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from guarantees.identifiers import id_number_hash
from guarantees.validation import MagnitudeLimit, validate_batch

from .helpers import ABC, ICBC, event_row, guarantee_row, org_code, person_id, person_row

KEY = b"test-key"
LIMITS = [
    MagnitudeLimit("guaranteed_amount", Decimal("10000")),
    MagnitudeLimit("fee_rate", Decimal("0.10")),
    MagnitudeLimit("amount", Decimal("10000")),
]
LINES = {"一般借款担保": "general", "农户土地收益保证贷款": "farmer_land_income"}


def check(guarantees, events=(), known_contracts=()):
    return validate_batch(
        guarantees,
        events,
        known_banks={ICBC, ABC},
        known_contracts=set(known_contracts),
        product_lines=LINES,
        known_regions={"510000", "510100", "510104"},
        limits=LIMITS,
        hash_key=KEY,
    )


def only(result):
    assert len(result.findings) == 1, [f.message for f in result.findings]
    f = result.findings[0]
    return f.severity, f.rule, f.sheet, f.row, f.column, f.message


def test_a_valid_row_gives_typed_values_and_no_finding():
    result = check([guarantee_row(2, fee_rate="1.2%", gov_backed="是", product_line="农户土地收益保证贷款")])
    assert result.findings == []
    g = result.guarantees.iloc[0].to_dict()
    assert g == {
        "source_row": 2,
        "contract_no": "HT-0002",
        "id_kind": "credit_code",
        "id_key": org_code(1),
        "bank": ICBC,
        "other_lender": "",
        "loan_amount": Decimal("120.00"),
        "guaranteed_amount": Decimal("100.00"),
        "start_date": dt.date(2025, 3, 1),
        "end_date": dt.date(2026, 3, 1),
        "fee_rate": Decimal("0.012000"),
        "fee_amount": Decimal("1.50"),
        "product_line": "farmer_land_income",
        "gov_backed": True,
        "batch_zdz": False,
        "reguarantee_provincial_share": Decimal("0.0000"),
        "national_fund_share": Decimal("0.0000"),
        "counter_guarantee": "none",
    }
    assert result.clients.to_dict("records") == [
        {
            "id_kind": "credit_code",
            "id_key": org_code(1),
            "id_last4": "",
            "name": "成都甲科技有限公司",
            "client_type": "small_micro",
            "industry": "C39",
            "region_id": "510104",
            "group_name": "",
        }
    ]


def test_a_dataframe_gives_the_same_result_as_a_list_of_dicts():
    rows = [guarantee_row(2), person_row(3, contract_no="HT-0003")]
    events = [event_row(2)]
    from_list, from_frame = check(rows, events), check(pd.DataFrame(rows), pd.DataFrame(events))
    assert from_frame.findings == from_list.findings == []
    pd.testing.assert_frame_equal(from_frame.guarantees, from_list.guarantees)
    pd.testing.assert_frame_equal(from_frame.clients, from_list.clients)
    pd.testing.assert_frame_equal(from_frame.events, from_list.events)


def test_end_before_start():
    assert only(check([guarantee_row(5, start_date="2025-03-01", end_date="2025-01-01")])) == (
        "error",
        "end_before_start",
        "guarantees",
        5,
        "end_date",
        "工作表“担保明细”第5行“到期日期”列：到期日期 2025-01-01 早于起始日期 2025-03-01",
    )


def test_negative_amount():
    assert only(check([guarantee_row(3, guaranteed_amount="-5")])) == (
        "error",
        "negative",
        "guarantees",
        3,
        "guaranteed_amount",
        "工作表“担保明细”第3行“担保金额（万元）”列：金额不能为负数：-5",
    )


def test_non_numeric_amount():
    assert only(check([guarantee_row(4, loan_amount="一百万")])) == (
        "error",
        "not_a_number",
        "guarantees",
        4,
        "loan_amount",
        "工作表“担保明细”第4行“借款金额（万元）”列：“一百万”不是数字",
    )


def test_thousands_separators_and_numbers_from_a_spreadsheet_are_amounts():
    result = check([guarantee_row(2, loan_amount="1,234.5", guaranteed_amount=100.0, fee_amount=1.255)])
    assert result.findings == []
    assert result.guarantees.loc[0, ["loan_amount", "guaranteed_amount", "fee_amount"]].tolist() == [
        Decimal("1234.50"),
        Decimal("100.00"),
        Decimal("1.26"),  # half up
    ]


def test_fee_rate_given_in_percent_says_what_it_probably_means():
    assert only(check([guarantee_row(2, fee_rate="1.5")])) == (
        "error",
        "rate_in_percent",
        "guarantees",
        2,
        "fee_rate",
        "工作表“担保明细”第2行“年化担保费率”列：应填写小数（1% 填 0.01）"
        "；1.5 大于 1，很可能是指 1.5%，即应填 0.015",
    )


def test_fee_rate_above_100_percent():
    assert only(check([guarantee_row(2, fee_rate="150")])) == (
        "error",
        "rate_above_100",
        "guarantees",
        2,
        "fee_rate",
        "工作表“担保明细”第2行“年化担保费率”列：比例 150 超过 100%",
    )
    assert only(check([guarantee_row(2, fee_rate="120%")]))[1] == "rate_above_100"


def test_fee_rate_with_a_percent_sign_is_a_fraction():
    result = check([guarantee_row(2, fee_rate="1.5%")])
    assert result.findings == []
    assert result.guarantees.loc[0, "fee_rate"] == Decimal("0.015000")


def test_same_contract_twice_in_one_batch():
    result = check(
        [guarantee_row(2, contract_no="HT-9"), guarantee_row(3), guarantee_row(4, contract_no="HT-9")]
    )
    assert only(result) == (
        "error",
        "duplicate_contract",
        "guarantees",
        4,
        "contract_no",
        "工作表“担保明细”第4行“担保合同编号”列：担保合同编号“HT-9”与第2行重复",
    )


def test_event_for_an_unknown_contract():
    result = check(
        [guarantee_row(2)],
        [
            event_row(2, contract_no="HT-0002"),
            event_row(3, contract_no="HT-OLD"),
            event_row(4, contract_no="HT-X"),
        ],
        known_contracts={"HT-OLD"},
    )
    assert only(result) == (
        "error",
        "unknown_contract",
        "events",
        4,
        "contract_no",
        "工作表“担保事件”第4行“担保合同编号”列：担保合同编号“HT-X”既不在本批次中，也未曾报送",
    )


def test_unknown_bank():
    assert only(check([guarantee_row(2, bank="某某银行")])) == (
        "error",
        "unknown_bank",
        "guarantees",
        2,
        "bank",
        "工作表“担保明细”第2行“贷款银行”列：贷款银行“某某银行”不在银行名录中（非银行债权人请填写在“其他债权人”列）",
    )


def test_another_lender_by_name_needs_no_registry():
    assert check([guarantee_row(2, bank="", other_lender="成都某小额贷款有限公司")]).findings == []


def test_exactly_one_lender():
    assert only(check([guarantee_row(2, bank="", other_lender="")])) == (
        "error",
        "one_lender",
        "guarantees",
        2,
        "bank",
        "工作表“担保明细”第2行“贷款银行”列：贷款银行和其他债权人须填写且只填写其一",
    )


def test_bad_credit_code_checksum():
    good = org_code(1)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert only(check([guarantee_row(2, credit_code=bad)])) == (
        "error",
        "bad_credit_code",
        "guarantees",
        2,
        "credit_code",
        "工作表“担保明细”第2行“统一社会信用代码”列："
        f"统一社会信用代码“{bad}”无效：应为18位且校验位符合 GB 32100-2015",
    )


def test_an_id_number_in_the_wrong_column_is_masked_in_the_message():
    number = person_id(8)[:17] + "X"
    result = check([guarantee_row(2, credit_code=number, loan_amount=number)])
    masked = "**************" + number[-4:]
    assert [(f.rule, f.column, f.message.count(masked)) for f in result.findings] == [
        ("bad_credit_code", "credit_code", 1),
        ("not_a_number", "loan_amount", 1),
    ]
    assert not any(number[:14] in f.message for f in result.findings)


def test_bad_id_number_names_only_the_last_four():
    result = check([person_row(2, id_number="110105194912310021")])
    assert only(result) == (
        "error",
        "bad_id_number",
        "guarantees",
        2,
        "id_number",
        "工作表“担保明细”第2行“身份证号码”列：身份证号码（尾号0021）"
        "无效：应为18位，出生日期真实且校验位符合 GB 11643",
    )


def test_a_person_is_kept_as_keyed_hash_and_last_four_only():
    number = person_id(7)
    result = check([person_row(2, n=7)])
    assert result.findings == []
    assert result.clients.to_dict("records") == [
        {
            "id_kind": "resident_id",
            "id_key": id_number_hash(number, KEY),
            "id_last4": number[-4:],
            "name": "张三",
            "client_type": "farmer",
            "industry": "C39",
            "region_id": "510104",
            "group_name": "",
        }
    ]
    assert "id_number" not in result.guarantees.columns
    typed = pd.concat([result.clients, result.guarantees], axis=1).astype(str)
    assert not typed.apply(lambda column: column.str.contains(number[:14])).any().any()


def test_exactly_one_identifier():
    assert only(check([guarantee_row(2, id_number=person_id(1))])) == (
        "error",
        "one_identifier",
        "guarantees",
        2,
        "credit_code",
        "工作表“担保明细”第2行“统一社会信用代码”列：统一社会信用代码和身份证号码须填写且只填写其一",
    )


def test_identifier_fits_the_client_type():
    farmer_with_code = only(check([guarantee_row(2, client_type="农户")]))
    assert farmer_with_code[1:5] == ("identifier_for_type", "guarantees", 2, "id_number")
    assert farmer_with_code[5].endswith("农户应填写身份证号码")
    firm_with_id = only(check([person_row(3, client_type="小微企业")]))
    assert firm_with_id[1:5] == ("identifier_for_type", "guarantees", 3, "credit_code")


@pytest.mark.parametrize(
    "written",
    [
        "2025-03-01",
        "2025/3/1",
        "2025.3.1",
        "2025年3月1日",
        "20250301",
        45717,
        45717.0,
        "45717",
        dt.datetime(2025, 3, 1),
        dt.date(2025, 3, 1),
        pd.Timestamp("2025-03-01"),
        "2025-03-01 00:00:00",
    ],
)
def test_dates_in_spreadsheet_formats(written):
    result = check([guarantee_row(2, start_date=written)])
    assert result.findings == []
    assert result.guarantees.loc[0, "start_date"] == dt.date(2025, 3, 1)


@pytest.mark.parametrize("written", ["2025-02-30", "2025", "1.3.2025", "明年", "20251301"])
def test_what_is_not_a_date(written):
    assert only(check([guarantee_row(6, start_date=written)])) == (
        "error",
        "not_a_date",
        "guarantees",
        6,
        "start_date",
        f"工作表“担保明细”第6行“起始日期”列：“{written}”不是可识别的日期"
        "（可填写 2025-03-01、2025/3/1、2025年3月1日、20250301 或 Excel 日期序列号）",
    )


def test_amount_that_looks_like_yuan_is_a_warning_to_confirm():
    result = check([guarantee_row(2, guaranteed_amount="1500000", loan_amount="1500000")])
    assert only(result) == (
        "warning",
        "magnitude",
        "guarantees",
        2,
        "guaranteed_amount",
        "工作表“担保明细”第2行“担保金额（万元）”列："
        "1500000.00 超过核对上限 10000，疑似按元而非万元填报，请核实后确认",
    )
    assert result.errors == []
    assert check([guarantee_row(2, guaranteed_amount="10000")]).findings == []  # the limit itself passes


def test_rate_far_above_usual_is_a_warning():
    assert only(check([guarantee_row(2, fee_rate="0.5")]))[:5] == (
        "warning",
        "magnitude",
        "guarantees",
        2,
        "fee_rate",
    )


def test_required_values_and_choices():
    result = check([guarantee_row(2, contract_no="", client_type="大型企业")])
    assert [(f.rule, f.row, f.column) for f in result.findings] == [
        ("required", 2, "contract_no"),
        ("unknown_choice", 2, "client_type"),
    ]
    assert result.findings[1].message == (
        "工作表“担保明细”第2行“客户类型”列：“大型企业”不是可选值（可填写：小微企业、个体工商户、农户、其他）"
    )
    # the English message lists the English words the column takes (the reader accepts them)
    assert result.findings[1].message_en == (
        "sheet “Guarantees”, row 2, column “Client type”: “大型企业” is not one of the allowed values "
        "(Small or micro enterprise, Individual business, Farm household, Other)"
    )


def test_unknown_region():
    assert only(check([guarantee_row(2, region_code="999999")]))[1:5] == (
        "unknown_region",
        "guarantees",
        2,
        "region_code",
    )


def test_one_client_is_described_once():
    result = check([guarantee_row(2), guarantee_row(3, contract_no="HT-3", client_name="成都甲科技公司")])
    assert only(result) == (
        "error",
        "client_inconsistent",
        "guarantees",
        3,
        "client_name",
        "工作表“担保明细”第3行“客户名称”列：同一客户（同一证件）在第2行的名称、类型、行业、地区或所属集团与本行不同",
    )


def test_events_are_typed_and_deduplicated():
    result = check(
        [guarantee_row(2)],
        [
            event_row(2, kind="代偿", amount="50", interest="2.5"),
            event_row(3, kind="代偿", amount="50", interest="2.5"),
            event_row(4, kind="追偿", occurred_on="2025/7/1", amount="10"),
        ],
    )
    assert result.findings == []
    assert result.events.drop(columns="source_row").to_dict("records") == [
        {
            "contract_no": "HT-0002",
            "kind": "compensation",
            "occurred_on": dt.date(2025, 6, 1),
            "amount": Decimal("50.00"),
            "interest": Decimal("2.50"),
        },
        {
            "contract_no": "HT-0002",
            "kind": "recovery",
            "occurred_on": dt.date(2025, 7, 1),
            "amount": Decimal("10.00"),
            "interest": Decimal("0.00"),
        },
    ]


def test_interest_only_on_compensation():
    assert only(check([guarantee_row(2)], [event_row(5, kind="解保", interest="1")])) == (
        "error",
        "interest_not_compensation",
        "events",
        5,
        "interest",
        "工作表“担保事件”第5行“代偿利息（万元）”列：只有代偿事件填写利息",
    )


def test_findings_come_in_sheet_row_column_order():
    result = check(
        [guarantee_row(3, fee_rate="2"), guarantee_row(2, contract_no="HT-2", end_date="2020-01-01")],
        [event_row(2, contract_no="HT-X")],
    )
    assert [(f.sheet, f.row, f.column) for f in result.findings] == [
        ("guarantees", 2, "end_date"),
        ("guarantees", 3, "fee_rate"),
        ("events", 2, "contract_no"),
    ]


def test_rows_without_numbers_are_counted_from_one():
    rows = [guarantee_row(2), guarantee_row(3, guaranteed_amount="x")]
    for row in rows:
        del row["source_row"]
    assert only(check(rows))[3] == 2


def test_text_longer_than_its_column_holds():
    assert only(check([guarantee_row(2, contract_no="H" * 65)])) == (
        "error",
        "too_long",
        "guarantees",
        2,
        "contract_no",
        "工作表“担保明细”第2行“担保合同编号”列：内容超过 64 个字符",
    )


def test_length_limits_are_those_of_the_database():
    from guarantees.models import Client, Guarantee
    from guarantees.validation import MAX_LENGTH

    assert {
        "contract_no": Guarantee._meta.get_field("contract_no").max_length,
        "client_name": Client._meta.get_field("name").max_length,
        "industry": Client._meta.get_field("industry").max_length,
        "group_name": Client._meta.get_field("group_name").max_length,
        "other_lender": Guarantee._meta.get_field("other_lender").max_length,
    } == MAX_LENGTH


def test_an_amount_beyond_what_can_be_recorded():
    result = check([guarantee_row(2, guaranteed_amount="1e14", loan_amount="1e14")])
    assert [(f.severity, f.rule, f.column) for f in result.findings] == [
        ("error", "too_large", "loan_amount"),
        ("error", "too_large", "guaranteed_amount"),
    ]
