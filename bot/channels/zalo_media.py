"""What a Zalo OA message can carry besides text: pure rules and message bodies. The uploads
themselves are ``ZaloSender.send_image`` / ``send_document`` in ``bot/channels/zalo.py``.

There is no sandbox OA, so these facts come from Zalo's documentation as quoted in public code
(checked November 2026); each is also what ``tests/support/fake_zalo.py`` enforces:

- Upload image: ``POST /v2.0/oa/upload/image``, multipart field ``file``, header
  ``access_token``; JPG and PNG only, at most 1 MB; the answer is ``data.attachment_id``.
  Sources: the "Upload hình ảnh" page of developers.zalo.me as quoted in the
  @warriorteam/redai-zalo-sdk package ("Dung lượng tối đa 1MB", "Hỗ trợ các định dạng: JPG
  và PNG"); Zalo's own zalo-java-sdk (``UploadImage`` example); goclaw's Zalo OA channel
  ("image 1MB").
- Upload file: ``POST /v2.0/oa/upload/file``, same form; PDF, DOC and DOCX only, at most
  5 MB; the answer is ``data.token``. Same sources ("Kích thước tối đa 5MB", "Hỗ trợ các
  định dạng: PDF, DOC, DOCX"; zalo-java-sdk ``v3/UploadFile``; goclaw: "accepts PDF/DOC/DOCX
  only; other types are silently rejected"). goclaw reads ``data.attachment_id`` there, so
  the sender takes that too when ``data.token`` is missing.
- Zalo checks an upload's type by the file name's extension (goclaw: "Zalo validates payload
  type by extension"), so the name we send always ends in the extension of what it is.
- Image message: ``attachment = {"type": "template", "payload": {"template_type": "media",
  "elements": [{"media_type": "image", "attachment_id": …}]}}`` with an optional ``text``
  (the caption, up to 2,000 characters) beside it. Source: zalo-java-sdk ``v3/
  SendImageCSMessage`` (same shape with ``url``); goclaw: the plain ``{"type": "image"}``
  shape answers -201.
- File message: ``attachment = {"type": "file", "payload": {"token": …}}``. Source:
  zalo-java-sdk ``v3/SendFileCSMessage``. The documented body has no ``text``: a caption
  goes as its own text message (``ZaloSender.send_document``).

"1 MB" and "5 MB" are not defined further by the docs; we read them as 10^6 and 5·10^6 bytes,
the stricter reading, so a file we accept is not refused by Zalo for its size.
"""

from __future__ import annotations

import re
from typing import Any

from bot.errors import Unsupported

UPLOAD_IMAGE_PATH = "/v2.0/oa/upload/image"
UPLOAD_FILE_PATH = "/v2.0/oa/upload/file"
MAX_IMAGE_BYTES = 1_000_000
MAX_DOCUMENT_BYTES = 5_000_000
#: The content type Zalo accepts for each extension of an uploaded image / file.
IMAGE_TYPES: dict[str, str] = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}
DOCUMENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
MAX_NAME = 200
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"]")


def image_extension(data: bytes) -> str | None:
    """``"png"`` or ``"jpg"`` from the bytes' signature; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    return None


def _split(name: str) -> tuple[str, str]:
    """(stem, lower-case extension) of a file name, without any directory part or characters
    that would break a multipart header; a name without an extension is all stem."""
    base = _UNSAFE.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    stem, dot, ext = base.rpartition(".")
    return (stem, ext.lower()) if dot and stem else (base, "")


def _named(stem: str, ext: str) -> str:
    return f"{(stem or 'file')[: MAX_NAME - len(ext) - 1]}.{ext}"


def image_refusal(data: bytes) -> str | None:
    """Why Zalo would refuse these bytes as an image, or None when it takes them."""
    if image_extension(data) is None:
        return "Zalo takes PNG or JPEG images only"
    if len(data) > MAX_IMAGE_BYTES:
        return f"{len(data)} bytes > Zalo's {MAX_IMAGE_BYTES} for an image"
    return None


def document_refusal(name: str, size: int | None = None) -> str | None:
    """Why Zalo would refuse a file of this name (and size, when known) as a document, or
    None when it takes it."""
    ext = _split(name)[1]
    if ext not in DOCUMENT_TYPES:
        kinds = ", ".join(f".{e}" for e in DOCUMENT_TYPES)
        return f"Zalo takes {kinds} files only, not {('.' + ext) if ext else 'this name'}"
    if size is not None and size > MAX_DOCUMENT_BYTES:
        return f"{size} bytes > Zalo's {MAX_DOCUMENT_BYTES} for a file"
    if size == 0:
        return "the file is empty"
    return None


def can_send_image(data: bytes) -> bool:
    """Whether ``ZaloSender.send_image`` would take these bytes (PNG/JPEG, ≤ 1 MB)."""
    return image_refusal(data) is None


def can_send_document(name: str, size: int | None = None) -> bool:
    """Whether ``ZaloSender.send_document`` would take a file of this name (PDF/DOC/DOCX) and,
    when ``size`` is given, of this many bytes (1 to 5 MB)."""
    return document_refusal(name, size) is None


def image_upload(data: bytes, name: str) -> tuple[str, str]:
    """(file name, content type) to upload ``data`` as an image, or Unsupported. The name
    keeps the given stem; its extension becomes that of what the bytes are."""
    refusal = image_refusal(data)
    ext = image_extension(data)
    if refusal is not None or ext is None:
        raise Unsupported("image", refusal or "not an image")
    stem, given = _split(name)
    if ext == "jpg" and given == "jpeg":
        ext = given
    return _named(stem, ext), IMAGE_TYPES[ext]


def document_upload(data: bytes, name: str) -> tuple[str, str]:
    """(file name, content type) to upload ``data`` as a document, or Unsupported."""
    refusal = document_refusal(name, len(data))
    if refusal is not None:
        raise Unsupported("document", refusal)
    stem, ext = _split(name)
    return _named(stem, ext), DOCUMENT_TYPES[ext]


def image_message(attachment_id: str, caption: str) -> dict[str, Any]:
    """The ``message`` of a customer-service message showing an uploaded image."""
    element = {"media_type": "image", "attachment_id": attachment_id}
    payload = {"template_type": "media", "elements": [element]}
    message: dict[str, Any] = {"attachment": {"type": "template", "payload": payload}}
    if caption.strip():
        message["text"] = caption
    return message


def file_message(token: str) -> dict[str, Any]:
    """The ``message`` of a customer-service message carrying an uploaded file."""
    return {"attachment": {"type": "file", "payload": {"token": token}}}
