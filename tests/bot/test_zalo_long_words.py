"""A 24-character word typed on Zalo (the shape of a receipt token) is the citizen's text where
the chat waits for text, and a receipt's token only where it does not (issue 10, point 8;
the short code's rule, ``conversations.typed.read_as``)."""

from __future__ import annotations

import pytest

from bot.channels.zalo_events import parse_text
from conversations import Choice, Command, ConversationState, Facts, Inbound, Text, handle
from conversations.context import ReceiptFacts
from tests.conversations.test_typed_code_mid_task import ENV
from tests.conversations.test_typed_code_mid_task import _state as state_after

TOKEN = "E-ALzL1fFlgn7KEoyWfaOUK5"
RECEIPT = ReceiptFacts(5, TOKEN, "P1")
#: Words of the token's shape a citizen may type.
WORDS = ["abcdefghijklmnopqrstuvwx", "xin_chao_toi_can_giup_do", "nha-so-5-ngo-12-xay-tang",
         "KhongDuocCapPhepXayDung1", TOKEN]  # fmt: skip
TO_TEXT: list[Inbound] = [Command("phananh"), Choice("c.cat:capphep")]


@pytest.mark.parametrize("word", WORDS)
def test_at_the_description_step_the_word_is_the_description(word: str) -> None:
    state = state_after(TO_TEXT)
    event = parse_text(word)
    assert isinstance(event, Command)
    assert (event.name, event.arg, event.typed) == ("start", word, word)
    for facts in (Facts(), Facts(receipt=RECEIPT)):
        outcome = handle(state, event, ENV, facts)
        keys = [r.key for r in outcome.replies]
        assert not any(k.startswith("receipt.") or k == "input.switch_ask" for k in keys), keys
        assert outcome.state is not None
        assert outcome.state.step != state.step  # the description was taken: the next step
        assert word in str(outcome.state.data)


@pytest.mark.parametrize("word", WORDS[:-1])
def test_at_rest_a_word_of_the_token_shape_is_still_read_as_a_token(word: str) -> None:
    keys = [r.key for r in handle(ConversationState("vi"), parse_text(word), ENV, Facts()).replies]
    assert any(k.startswith("receipt.") for k in keys), keys


def test_at_rest_a_real_token_opens_the_survey() -> None:
    outcome = handle(ConversationState("vi"), parse_text(TOKEN), ENV, Facts(receipt=RECEIPT))
    assert outcome.state is not None
    assert outcome.state.flow == "survey"


@pytest.mark.parametrize("text", ["abcdefghijklmnopqrstuvw", "abcdefghijklmnopqrstuvwxy",
                                  "-bcdefghijklmnopqrstuvwx", "abc defghijklmnopqrstuvwx"])  # fmt: skip
def test_other_lengths_and_shapes_are_plain_text(text: str) -> None:
    assert isinstance(parse_text(text), Text)
