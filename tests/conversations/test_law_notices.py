"""The notices say what really happens (issue 14): the platform the messages pass through,
the agency's address in the tố cáo guidance, how to see and correct complaint data, the offer
to denounce at every survey's end, and a forwarded case as the citizen and staff see it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from conversations import Choice, Command, ConversationState, Env, default_catalog, handle
from conversations.context import CaseNote, ComplaintFacts, DossierFacts, Facts
from conversations.flows import complaint, dossier, survey
from conversations.flows.cards import citizen_view, staff_card

CATALOG = default_catalog()
NOW = datetime(2026, 12, 1, 3, tzinfo=UTC)
ENV = Env(now=NOW, new_id=lambda: 7, agency="Sở Xây dựng")


def _text(replies: tuple[object, ...], lang: str = "vi") -> str:
    return "\n".join(CATALOG.render(r, lang).text for r in replies)  # type: ignore[arg-type]


# channel, what the consent and the privacy notice say the messages pass through
VIA = [
    ("telegram", "máy chủ của Telegram"),
    ("zalo", "máy chủ của Zalo"),
    ("web", "trang trò chuyện trên web của cơ quan"),
    ("console", "máy chủ của cơ quan, không qua nền tảng trò chuyện nào khác"),
]


DOSSIER = DossierFacts(
    id=1, code="H01.2026.000001", token="t0k3n", procedure="Cấp phép xây dựng",
    received_on=date(2026, 11, 20), due_on=date(2026, 12, 10), status="received",
)  # fmt: skip


def test_the_consent_wording_id_names_no_channel_and_no_language() -> None:
    """The id covers every channel's text (each one proven by re-rendering), but is the same
    for all: a consent kept after its survey must not tell on which channel it was given."""
    ids = {dossier._wording(replace(ENV, channel=c)) for c, _ in VIA}
    assert len(ids) == 1
    texts = "\n".join(
        survey.consent_texts(lambda e: dossier._ask(e, "", "{code}", "{procedure}"), ENV)
    )
    for _, said in VIA:
        assert f"đi qua {said}" in texts


@pytest.mark.parametrize(("channel", "said"), VIA, ids=[c for c, _ in VIA])
def test_the_notices_name_the_channel_the_messages_really_pass_through(
    channel: str, said: str
) -> None:
    env = replace(ENV, channel=channel)
    consent = _text(handle(ConversationState("vi"), Command("khaosat"), env).replies)
    draft = complaint.Draft(draft=1, cat="khac", text="Một nội dung đủ dài.")
    state = ConversationState("vi", complaint.FLOW, complaint.WHO, draft.dump())
    notice = _text(handle(state, Choice("c.who:named"), env).replies)
    facts = Facts(dossier=DOSSIER)
    follow = _text(dossier.link(ConversationState("vi"), env, facts).replies)
    for text in (consent, notice, follow):
        assert f"đi qua {said}" in text
        others = {"telegram": "Telegram", "zalo": "Zalo"}
        assert all(name not in text for c, name in others.items() if c != channel)


def test_the_consent_says_the_consent_record_loses_its_chat_and_how_to_see_data() -> None:
    consent = _text(handle(ConversationState("vi"), Command("khaosat"), ENV).replies)
    assert "cho đến khi Ông/Bà yêu cầu xóa" not in consent
    assert "bản ghi này cũng không còn gắn với cuộc trò chuyện" in consent
    assert "gõ /xoadulieu để xem các loại dữ liệu" in consent
    assert "tiêu chí chấm điểm" in consent


def test_the_privacy_notice_says_how_to_see_and_correct() -> None:
    draft = complaint.Draft(draft=1, cat="khac", text="Một nội dung đủ dài.")
    state = ConversationState("vi", complaint.FLOW, complaint.WHO, draft.dump())
    notice = _text(handle(state, Choice("c.who:named"), ENV).replies)
    assert 'nút "Quay lại"' in notice
    assert "/tracuu MÃ" in notice


@pytest.mark.parametrize(
    ("address", "shown"),
    [("Số 1 Lê Hồng Phong, phường Phủ Lý", "(địa chỉ: Số 1 Lê Hồng Phong, phường Phủ Lý)"),
     ("", None)],
    ids=["set", "unset"],
)  # fmt: skip
def test_the_denunciation_guidance_gives_the_agency_address(
    address: str, shown: str | None
) -> None:
    env = replace(ENV, agency_address=address)
    state = complaint.start(ConversationState("vi"), env).state
    assert state is not None
    text = _text(handle(state, Choice("c.cat:tocao"), env).replies)
    line = next(x for x in text.splitlines() if "nơi tiếp công dân" in x)
    if shown:
        assert f"nơi tiếp công dân của Sở Xây dựng {shown} để trình bày" in line
    else:
        assert "nơi tiếp công dân của Sở Xây dựng để trình bày" in line


def test_every_survey_ends_with_how_to_denounce() -> None:
    state = ConversationState("vi", survey.FLOW, survey.SUMMARY, {"rid": 3, "ans": {}, "hist": []})
    text = _text(handle(state, Choice("summary:submit"), ENV).replies)
    assert "tố cáo" in text
    assert '"Tố cáo công chức sách nhiễu, đòi tiền"' in text


def _case(status: str, history: tuple[CaseNote, ...], **kw: object) -> ComplaintFacts:
    return ComplaintFacts(
        code="PA-2026-000001", category="khac", status=status, description="Nội dung.",
        source="chat", anonymous=False, name="Nguyễn Văn An", phone="0912345678",
        language="vi", created_at=NOW, due_on=date(2026, 12, 15), owned=True, reachable=True,
        history=history, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_forwarded_case_shows_where_it_went_not_our_deadline() -> None:
    history = (
        CaseNote(NOW, "new", None, "citizen", False),
        CaseNote(NOW, "out_of_scope", "Ủy ban nhân dân phường Phủ Lý", "staff", True),
    )
    case = _case("out_of_scope", history, forwarded_to="Ủy ban nhân dân phường Phủ Lý",
                 forwarded_on=date(2026, 12, 1))  # fmt: skip
    text = _text(citizen_view(case, ENV))
    assert "Hạn giải quyết" not in text
    assert "Đã chuyển đến Ủy ban nhân dân phường Phủ Lý ngày 01/12/2026" in text
    assert "• 01/12/2026: Chuyển đến Ủy ban nhân dân phường Phủ Lý" in text


def test_a_history_line_without_a_note_has_no_dangling_colon() -> None:
    case = _case("new", (CaseNote(NOW, "new", None, "citizen", False),))
    text = _text(staff_card(case, ENV))
    assert "— Mới tiếp nhận\n" in text + "\n"
    assert "Mới tiếp nhận: " not in text
