"""The survey texts state exactly what a response keeps and for how long, and what /huy does
with the answers given (issue 14, "Anonymity as the law reads it")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conversations import Choice, Command, ConversationState, Env, default_catalog, handle
from storage.schema import survey_responses

CATALOG = default_catalog()
ENV = Env(now=datetime(2026, 12, 1, 3, tzinfo=UTC), new_id=lambda: 7, agency="Sở Xây dựng")

# Each column of survey_responses, as the consent and /trogiup name it (None: not data about
# the person: a random id).
KEPT = {
    "id": None,
    "questionnaire": "phiên bản phiếu",
    "status": "đã gửi, bị hủy hay hết hạn",
    "with_receipt": "mở từ giấy biên nhận",
    "procedure": "thủ tục",
    "field": "lĩnh vực",
    "handed_over_month": "tháng trả kết quả",
    "started_at": "giờ bắt đầu",
    "ended_at": "giờ kết thúc (làm tròn đến giờ)",
    "completed_at": "giờ kết thúc (làm tròn đến giờ)",
}


def _text(command: str, state: ConversationState | None = None) -> str:
    out = handle(state or ConversationState("vi"), Command(command), ENV)
    return "\n".join(CATALOG.render(r, "vi").text for r in out.replies)


def test_every_kept_column_is_named() -> None:
    assert set(KEPT) == {c.name for c in survey_responses.columns}


@pytest.mark.parametrize("command", ["khaosat", "trogiup"])
def test_the_survey_texts_name_everything_a_response_keeps(command: str) -> None:
    text = _text(command)
    missing = [col for col, said in KEPT.items() if said is not None and said not in text]
    assert missing == []


def test_the_consent_gives_the_retention_of_the_statistics() -> None:
    assert "không thời hạn, chỉ làm số liệu thống kê" in _text("khaosat")


def test_the_consent_and_cancel_say_the_same_of_the_answers_given() -> None:
    consent = _text("khaosat")
    assert "(gõ /huy): các câu đã trả lời đến lúc đó vẫn được giữ làm số liệu thống kê" in consent
    cancel = CATALOG.text("vi", "cancel.survey")
    assert "được giữ làm số liệu thống kê, ẩn danh" in cancel
    assert "/xoadulieu trước khi dừng" in consent


def _complaint(hotline: bool, anon: bool) -> str:
    from conversations.flows import complaint

    draft = complaint.Draft(draft=1, cat="khac", text="Một nội dung đủ dài.", hotline=hotline)
    state = ConversationState("vi", complaint.FLOW, complaint.WHO, draft.dump())
    out = handle(state, Choice("c.who:anon" if anon else "c.who:named"), ENV)
    return "\n".join(CATALOG.render(r, "vi").text for r in out.replies)


@pytest.mark.parametrize(
    ("hotline", "anon", "notice", "asked"),
    [
        (False, False, "Trước khi Ông/Bà cho biết họ tên", "gõ họ và tên"),
        (False, True, "Trước khi Ông/Bà để lại địa chỉ (không bắt buộc)", "gõ địa chỉ"),
        (True, False, "xin đọc cho người gọi nghe", "gõ họ và tên"),
        (True, True, "xin đọc cho người gọi nghe", "gõ địa chỉ"),
    ],
    ids=["named", "anonymous", "hotline-named", "hotline-anonymous"],
)
def test_a_privacy_notice_comes_before_any_personal_data(
    hotline: bool, anon: bool, notice: str, asked: str
) -> None:
    text = _complaint(hotline, anon)
    assert notice in text
    assert text.index(notice) < text.index(asked)
    # Each says the case may be sent on to the competent body (NĐ 20/2008, Điều 9).
    assert "chuyển đến cơ quan có thẩm quyền" in text


def test_a_denunciation_on_a_hotline_call_guides_the_officer_and_stays_staff() -> None:
    from conversations.flows import complaint

    draft = complaint.Draft(draft=1, hotline=True)
    state = ConversationState("vi", complaint.FLOW, complaint.CATEGORY, draft.dump())
    out = handle(state, Choice("c.cat:tocao"), ENV)
    keys = [r.key for r in out.replies]
    assert keys == ["law5.hotline_denunciation", "law5.hotline_done"]
    assert out.state is not None
    assert out.state.flow is None


@pytest.mark.parametrize(
    ("other", "term"),
    [("hạn xử lý", "hạn giải quyết"), ("mã tra cứu", "mã phản ánh"), ("Phần {part}", "Yếu tố")],
)
def test_one_term_per_concept(other: str, term: str) -> None:
    """The resolve deadline, the tracking code and a survey's group (SIPAS.md: yếu tố, each
    of tiêu chí) have one name in every Vietnamese text."""
    vi = CATALOG.messages["vi"]
    assert [k for k, v in vi.items() if other.lower() in v.lower()] == []
    assert any(term.lower() in v.lower() for v in vi.values())
