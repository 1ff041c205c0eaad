"""While "keep it or drop it?" waits, typed text answers only that question (a fresh tester's
"bỏ việc đang làm đi ạ" became the complaint's text, and "3" a survey answer)."""

from __future__ import annotations

import pytest

from conversations import Choice, Command, Text, handle
from tests.support.engine import ENV
from tests.support.engine import walk as _walk

HALF_DONE = {
    "complaint": (Command("phananh"), Choice("c.cat:capphep")),
    "survey": (Command("khaosat"), Choice("consent:yes")),
}


@pytest.mark.parametrize("task", sorted(HALF_DONE))
@pytest.mark.parametrize("typed", ["việc đang làm", "3", "Công trình lấn chiếm lối đi", "bỏ qua"])
def test_an_unclear_answer_asks_again_and_reaches_no_hidden_step(task: str, typed: str) -> None:
    other = Command("khaosat") if task == "complaint" else Command("phananh")
    asked = _walk(*HALF_DONE[task], other)
    outcome = handle(asked, Text(typed), ENV)
    assert [r.key for r in outcome.replies] == ["input.switch_unclear", "input.switch_ask"]
    assert outcome.changes == ()
    assert outcome.state == asked


KEEP = ["1", "tiếp tục", "Tiếp tục ạ", "tiếp", "giữ", "giữ lại nhé", "làm tiếp", "tiếp tục đi",
        "Tiếp tục việc đang làm", "go on", "keep"]  # fmt: skip
DROP = ["2", "bỏ", "Bỏ ạ", "bỏ đi", "thôi bỏ", "bỏ việc đó", "bỏ việc đang làm đi ạ", "chuyển",
        "chuyển sang việc mới", "drop", "drop it"]  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "kept"), [*((t, True) for t in KEEP), *((t, False) for t in DROP)]
)
@pytest.mark.parametrize("task", sorted(HALF_DONE))
def test_the_options_typed_answer_it(task: str, typed: str, kept: bool) -> None:
    """Short and partial forms of the two options ("tiếp tục", "bỏ") answer the question."""
    other = Command("khaosat") if task == "complaint" else Command("phananh")
    asked = _walk(*HALF_DONE[task], other)
    outcome = handle(asked, Text(typed), ENV)
    assert outcome.state is not None
    assert "input.switch_unclear" not in [r.key for r in outcome.replies]
    assert (outcome.state.flow == task) is kept
