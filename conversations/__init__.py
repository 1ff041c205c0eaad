"""The channel-free conversation engine: events in, replies and state changes out."""

from .catalog import Catalog, Message, default_catalog
from .context import ComplaintFacts, Env, Facts, ReceiptFacts, ResponseStatus
from .effects import (
    Change,
    ChoiceOption,
    ClearAnswer,
    ConversationState,
    EndResponse,
    FileRef,
    ForgetContact,
    Notify,
    Number,
    OpenComplaint,
    Outcome,
    RateComplaint,
    RecordConsent,
    Reply,
    RequestJob,
    SaveAnswer,
    SendFile,
    SetLanguage,
    StartResponse,
    UpdateComplaint,
)
from .engine import EngineError, handle, prompt
from .events import (
    Attachment,
    Choice,
    Command,
    Expired,
    Inbound,
    InboundEvent,
    Origin,
    Text,
    TimedOut,
)
from .flows.survey import FLOW as SURVEY_FLOW
from .flows.survey import SurveyData
from .limits import MAX_COMMAND_ARG_CHARS, MAX_COMMENT_CHARS, MAX_INBOUND_CHARS
from .numbers import format_decimal, round_half_up
from .parsing import clean_text
from .questionnaire import Questionnaire, Step
from .questionnaire import load as load_questionnaire

__all__ = [
    "MAX_COMMAND_ARG_CHARS",
    "MAX_COMMENT_CHARS",
    "MAX_INBOUND_CHARS",
    "SURVEY_FLOW",
    "Attachment",
    "Catalog",
    "Change",
    "Choice",
    "ChoiceOption",
    "ClearAnswer",
    "Command",
    "ComplaintFacts",
    "ConversationState",
    "EndResponse",
    "EngineError",
    "Env",
    "Expired",
    "Facts",
    "FileRef",
    "ForgetContact",
    "Inbound",
    "InboundEvent",
    "Message",
    "Notify",
    "Number",
    "OpenComplaint",
    "Origin",
    "Outcome",
    "Questionnaire",
    "RateComplaint",
    "ReceiptFacts",
    "RecordConsent",
    "Reply",
    "RequestJob",
    "ResponseStatus",
    "SaveAnswer",
    "SendFile",
    "SetLanguage",
    "StartResponse",
    "Step",
    "SurveyData",
    "Text",
    "TimedOut",
    "UpdateComplaint",
    "clean_text",
    "default_catalog",
    "format_decimal",
    "handle",
    "load_questionnaire",
    "prompt",
    "round_half_up",
]
