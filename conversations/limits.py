"""Named limits on what a citizen may send, shared by every flow."""

from typing import Final

#: Longest free comment kept with a survey (characters).
MAX_COMMENT_CHARS: Final = 1000
#: Longest inbound text the engine looks at; adapters cut anything longer first.
MAX_INBOUND_CHARS: Final = 4096
#: Longest command argument (a receipt token is at most 64 characters).
MAX_COMMAND_ARG_CHARS: Final = 64
