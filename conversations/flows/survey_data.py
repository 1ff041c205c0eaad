"""The survey's names and its part of the conversation state (``SurveyData``); the
questionnaire it runs on. Moved from ``survey`` as is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..questionnaire import Questionnaire, Step, method_of
from ..questionnaire import load as load_questionnaire

FLOW = "survey"
CONSENT = "consent"
SUMMARY = "summary"
BACK, SKIP, DONE = "back", "skip", "done"
CONSENT_PURPOSE = "survey"
REMINDED = "reminded"
#: Our estimate of the time one question takes on a phone, for the length the consent states.
SECONDS_PER_QUESTION = 15

Answer = int | str
Ended = Literal["completed", "abandoned", "expired"]


@dataclass(slots=True)
class SurveyData:
    """The survey's part of the conversation state (JSON in storage).

    ``rid`` links this chat to its response only while the survey is in progress; so does
    ``dossier``, the dossier whose invitation opened it (the response itself never holds it).
    ``month``: that dossier's hand-over month, "YYYY-MM". ``form``: the SIPAS method the
    survey was opened with (``SURVEY_METHOD`` then), kept to its end even if the setting
    changes; a survey stored without one was opened on the 2640 form.
    """

    rid: int | None = None
    receipt: int | None = None
    proc: str | None = None
    area: str | None = None
    ans: dict[str, Answer] = field(default_factory=dict)
    hist: list[str] = field(default_factory=list)
    dossier: int | None = None
    month: str | None = None
    form: str | None = None

    @classmethod
    def load(cls, raw: dict[str, object]) -> SurveyData:
        ans = raw.get("ans")
        hist = raw.get("hist")
        return cls(
            rid=_int_or_none(raw.get("rid")),
            receipt=_int_or_none(raw.get("receipt")),
            proc=_str_or_none(raw.get("proc")),
            area=_str_or_none(raw.get("field")),
            ans={str(k): v for k, v in ans.items() if isinstance(v, int | str)}
            if isinstance(ans, dict)
            else {},
            hist=[str(h) for h in hist] if isinstance(hist, list) else [],
            dossier=_int_or_none(raw.get("dossier")),
            month=_str_or_none(raw.get("month")),
            form=_str_or_none(raw.get("form")),
        )

    def dump(self) -> dict[str, object]:
        out: dict[str, object] = {"ans": dict(self.ans), "hist": list(self.hist)}
        for key, value in (
            ("rid", self.rid),
            ("receipt", self.receipt),
            ("proc", self.proc),
            ("field", self.area),
            ("dossier", self.dossier),
            ("month", self.month),
            ("form", self.form),
        ):
            if value is not None:
                out[key] = value
        return out


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def questionnaire(data: SurveyData) -> Questionnaire:
    """The questionnaire of this survey's method (see ``SurveyData.form``)."""
    return load_questionnaire(method_of(data.form))


def _form(step: Step) -> Questionnaire:
    return load_questionnaire(step.form)


def _selection(data: SurveyData, step: Step) -> list[str]:
    value = data.ans.get(step.id)
    return [c for c in str(value).split(",") if c in step.options] if value else []
