"""What the fake Zalo's ZNS endpoint checks (``FakeZalo.approve_zns``, ``zns_sends``).

Where its behaviour comes from (Zalo's own sending reference was not read): the request
``POST https://business.openapi.zalo.me/message/template`` with the OA's ``access_token``
header and the JSON body ``{"phone": "84912345678", "template_id", "template_data": {...},
"tracking_id"}`` (tracking_id at most 48 characters), answered ``{"error": 0, "message":
"Success", "data": {"msg_id", "sent_time", "quota"}}``, as an open-source SDK
(app.unpkg.com/@warriorteam/redai-zalo-sdk@1.32.17/files/dist/services/zns.service.js) and
resellers' copies (developers-zns.goby.vn/gui-tin-nhan, docs.etelecom.vn/api-etelecom-english/
api-integration/zalo-cloud/zalo-cloud-api/send-zns) give it; the error codes from
zalo.cloud/zns/guidelines/handle-error-code: -108 phone invalid, -109 template id invalid,
-111 template data empty, -124 access token invalid. The fake's own choices: the phone must
be 84 and 9-10 digits (Zalo also takes 0… per that page), and the data must fill exactly the
approved template's fields (else -111).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ZNS_PATH = "/message/template"
_PHONE = re.compile(r"84\d{9,10}")


@dataclass(frozen=True)
class ZnsSend:
    """A ZNS message the fake accepted."""

    phone: str
    template_id: str
    data: dict[str, str]
    tracking_id: str


class ZnsRefused(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def accepted(body: Any, templates: dict[str, frozenset[str]]) -> ZnsSend:
    """The send ``body`` asks for, or ZnsRefused with ZNS's code for what is wrong."""
    if not isinstance(body, dict):
        raise ZnsRefused(-100, "body must be a JSON object")
    phone, template_id, data = body.get("phone"), body.get("template_id"), body.get("template_data")
    tracking = body.get("tracking_id", "")
    if not isinstance(phone, str) or not _PHONE.fullmatch(phone):
        raise ZnsRefused(-108, "phone number invalid")
    if not isinstance(template_id, str) or template_id not in templates:
        raise ZnsRefused(-109, "template id invalid")
    if not isinstance(data, dict) or not data or set(data) != templates[template_id]:
        raise ZnsRefused(-111, "template data empty or not the template's fields")
    if not isinstance(tracking, str) or len(tracking) > 48:
        raise ZnsRefused(-100, "tracking_id longer than 48 characters")
    return ZnsSend(phone, template_id, {k: str(v) for k, v in data.items()}, tracking)
