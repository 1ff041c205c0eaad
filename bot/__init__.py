"""Process entry, settings, channel adapters and the runtime around the engine."""

import os

# python-telegram-bot 22 reports RetryAfter.retry_after as a timedelta (instead of a
# deprecated int) only when asked; this runs before any module here imports telegram.
os.environ.setdefault("PTB_TIMEDELTA", "true")
