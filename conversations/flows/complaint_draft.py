"""The complaint being written: its steps and its draft (JSON in the conversation state).
Moved out of ``complaint.py`` unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..effects import FileRef

FLOW = "complaint"
CATEGORY, TEXT, FILES, WHO, NAME, PHONE, ADDRESS, CONFIRM = (
    "c.cat", "c.text", "c.files", "c.who", "c.name", "c.phone", "c.addr", "c.confirm",
)  # fmt: skip
BACK, CANCEL, SKIP = "back", "cancel", "skip"
#: On Zalo with ZNS configured: consent to a ZNS message to the phone given (issue 15).
ZNS = "c.zns"


@dataclass(slots=True)
class Draft:
    """The complaint being written (JSON in the conversation state)."""

    draft: int = 0
    cat: str | None = None
    text: str | None = None
    files: list[dict[str, object]] = field(default_factory=list)
    anon: bool | None = None
    name: str | None = None
    phone: str | None = None
    hotline: bool = False
    address: str | None = None
    #: Consent to progress notices by ZNS to ``phone`` (None: not asked).
    zns: bool | None = None
    #: The channel's message ids of the texts taken, by what they gave ("text", "name",
    #: "phone"), so an edit of one of them before «Gửi» can replace it.
    msgs: dict[str, str] = field(default_factory=dict)
    #: The album being received at the files step: its id, files taken, refusals.
    album: dict[str, object] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: dict[str, object]) -> Draft:
        files = raw.get("files")
        anon = raw.get("anon")
        return cls(
            draft=int(d) if isinstance(d := raw.get("draft"), int) else 0,
            cat=c if isinstance(c := raw.get("cat"), str) else None,
            text=t if isinstance(t := raw.get("text"), str) else None,
            files=[f for f in files if isinstance(f, dict)] if isinstance(files, list) else [],
            anon=anon if isinstance(anon, bool) else None,
            name=n if isinstance(n := raw.get("name"), str) else None,
            phone=p if isinstance(p := raw.get("phone"), str) else None,
            hotline=raw.get("hotline") is True,
            address=ad if isinstance(ad := raw.get("address"), str) else None,
            zns=z if isinstance(z := raw.get("zns"), bool) else None,
            msgs={str(k): str(v) for k, v in m.items()}
            if isinstance(m := raw.get("msgs"), dict)
            else {},
            album=dict(a) if isinstance(a := raw.get("album"), dict) else {},
        )

    def dump(self) -> dict[str, object]:
        return {
            "draft": self.draft,
            "cat": self.cat,
            "text": self.text,
            "files": list(self.files),
            "anon": self.anon,
            "name": self.name,
            "phone": self.phone,
            "hotline": self.hotline,
            "address": self.address,
            "zns": self.zns,
            "msgs": dict(self.msgs),
            "album": dict(self.album),
        }

    def file_refs(self) -> tuple[FileRef, ...]:
        return tuple(
            FileRef(
                media=str(f.get("media", "document")),
                size=int(s) if isinstance(s := f.get("size"), int) else 0,
                file_id=str(f.get("file_id", "")),
                name=str(f.get("name", "")),
                mime=str(f.get("mime", "")),
                note=str(f.get("note", "")),
            )
            for f in self.files
        )
