"""The conventional bot ``bench/e2e.py`` compares ours with: python-telegram-bot, state in memory.

A ``ConversationHandler`` walks the same questions the SIPAS survey starts with (consent, the
questions before the criteria, the first criteria), one message with a button keyboard per
question; a press is acknowledged (``answerCallbackQuery``), the answered question is edited to
show the choice, and the next question is sent. Nothing is stored: a restart forgets every
survey. PTB's defaults otherwise (updates handled one at a time, polling).

Reads ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_API_BASE_URL`` like the real bot, and prints
``ptb-mem running (…)`` once polling, which is what ``tests/support/bot_process.py`` waits for.
Run by ``bench/e2e.py`` as ``python -m bench.ptb_survey`` (as a script, bench/telegram.py
would stand in for the ``telegram`` package).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

import yaml
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
)
from telegram.warnings import PTBUserWarning

ROOT = Path(__file__).resolve().parent.parent
ASKING = 0
#: The questionnaire the durable bot runs in the benchmark (``tests/support/bot_process.py``
#: starts it with ``SURVEY_METHOD=sipas-2640``), so that both bots ask the same questions.
METHOD = "sipas-2640"
Question = tuple[str, list[tuple[str, str]]]


def questions() -> list[Question]:
    """(text, [(label, callback data)]) for consent, the questions before the criteria, and
    the criteria of elements 1 and 2, in Vietnamese, from the project's own data."""
    data = yaml.safe_load((ROOT / f"conversations/data/{METHOD}.yaml").read_text(encoding="utf-8"))
    catalog = yaml.safe_load((ROOT / "conversations/catalogs/vi.yaml").read_text(encoding="utf-8"))
    found: list[Question] = [
        (
            str(catalog["survey.consent"]),
            [
                (str(catalog["survey.consent.yes"]), "consent:yes"),
                (str(catalog["survey.consent.no"]), "consent:no"),
            ],
        )
    ]
    for step in data["before"]:
        if "when" in step:
            continue
        options = [(o["vi"], f"{step['id']}:{o['code']}") for o in step["options"]]
        if step["kind"] == "multi":
            options.append((str(catalog["survey.done"]), f"{step['id']}:done"))
        found.append((step["vi"], options))
    scale = [(f"{s['value']} – {s['vi']}", str(s["value"])) for s in data["scale"]]
    for element in data["elements"][:2]:
        for criterion in element["criteria"]:
            options = [(label, f"{criterion['code']}:{value}") for label, value in scale]
            found.append((f"{element['vi']}\n\n{criterion['vi']}", options))
    return found


QUESTIONS = questions()


def markup(options: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in options])


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_chat is not None
    assert context.user_data is not None
    context.user_data["step"] = 0
    text, options = QUESTIONS[0]
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup(options))
    return ASKING


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None
    assert context.user_data is not None
    assert update.effective_chat is not None
    await query.answer()
    step = int(context.user_data.get("step", 0))
    text, options = QUESTIONS[step]
    label = next((t for t, d in options if d == query.data), "")
    context.user_data.setdefault("answers", {})[step] = query.data
    await query.edit_message_text(f"{text}\n\n✓ {label}")
    step += 1
    context.user_data["step"] = step
    if step >= len(QUESTIONS):
        await context.bot.send_message(update.effective_chat.id, "Cảm ơn Ông/Bà!")
        return ConversationHandler.END
    text, options = QUESTIONS[step]
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup(options))
    return ASKING


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    # per_message=False with a CallbackQueryHandler is what a survey per chat wants.
    warnings.filterwarnings("ignore", category=PTBUserWarning)
    base_url = os.environ.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot")
    application = (
        Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"]).base_url(base_url).build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("khaosat", start)],
            states={ASKING: [CallbackQueryHandler(answer)]},
            fallbacks=[CommandHandler("khaosat", start)],
        )
    )

    async def said(_: Application) -> None:  # type: ignore[type-arg]
        print("ptb-mem running (polling)", flush=True)

    application.post_init = said
    application.run_polling(allowed_updates=["message", "callback_query"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
