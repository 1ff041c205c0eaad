"""The receipts command line's error messages come from the catalog (cli.*.yaml) and read as
they did when they were written in the code: "Vietnamese / English"."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from bot.cli.receipt_args import _date_arg, _int_arg, _text_arg, _username_arg, _web_arg
from bot.cli.receipt_csv import RowError, too_long
from bot.cli.words import both


@pytest.mark.parametrize(
    ("parse", "value", "message"),
    [
        (_text_arg("cli.name.procedure", 64), " ", "mã thủ tục trống / empty procedure code"),
        (
            _text_arg("cli.name.field", 3),
            "abcd",
            "lĩnh vực dài quá 3 ký tự / field longer than 3 characters",
        ),
        (_int_arg(1, 10000), "x", "cần một số từ 1 đến 10000 / expected a number from 1 to 10000"),
        (_int_arg(1, 5), "6", "cần một số từ 1 đến 5 / expected a number from 1 to 5"),
        (
            _date_arg,
            "1/13/2026",
            "ngày không hợp lệ, dùng YYYY-MM-DD / invalid date, use YYYY-MM-DD",
        ),
        (
            _web_arg,
            "ftp://x",
            "không phải địa chỉ web / not a web address (https://host[/path]): 'ftp://x'",
        ),
        (_username_arg, "a b", "tên bot không hợp lệ / not a Telegram bot username"),
    ],
)
def test_argument_errors(parse: Callable[[str], object], value: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as raised:
        parse(value)
    assert str(raised.value) == message


def test_row_and_file_errors_join_each_language() -> None:
    problems = (too_long("cli.name.dossier", 64), too_long("cli.name.field", 128))
    assert RowError(7, problems).message == (
        "Dòng 7: mã hồ sơ dài quá 64 ký tự; lĩnh vực dài quá 128 ký tự"
        " / row 7: dossier code longer than 64 characters; field longer than 128 characters"
    )
    assert RowError(None, problems[:1]).message == (
        "mã hồ sơ dài quá 64 ký tự / dossier code longer than 64 characters"
    )


def test_english_parameters_replace_only_the_english_ones() -> None:
    line = both("cli.csv.survey_over", (("days", 1),), en=(("days", "1 day"),))
    assert line == (
        "đã quá hạn khảo sát (ngày trả + 1 ngày; xem --valid-days)"
        " / survey period already over (hand-over date + 1 day; see --valid-days)"
    )
