"""Staff commands in chat (``/hoso``, ``/hotline``, ``/baocao``, ``/bantin``, ``/xuatdulieu``):
which flow or job each one starts. The engine checks that the sender is an admin first
(``Facts.admin``, from ``ADMIN_TELEGRAM_IDS``/``ZALO_ADMIN_IDS``) and only then calls here.

Split from ``conversations.engine``.
"""

from __future__ import annotations

from . import report_commands
from .asking import prompt, say_busy
from .context import Env, Facts
from .effects import ConversationState, Outcome, Reply, RequestJob
from .flows import staff, tracking


def admin_command(state: ConversationState, name: str, arg: str, env: Env, facts: Facts) -> Outcome:
    if name == "hoso":
        code = tracking.find_code(arg)
        if code is not None:
            return staff.show(state, env, facts, code)
        which = staff.list_filter(arg) if arg.strip() else None
        if arg.strip() and which is None:
            unknown = Reply("staff.unknown_case", (("code", arg[:20]),))
            # "/hoso PA-2026-12345": a code mistyped; say what one looks like.
            hint = (Reply("lookup.bad_code"),) if tracking.looks_like_code(arg) else ()
            return Outcome((unknown, *hint), state=state)
        return staff.case_list(state, env, facts, which)
    if name == "hotline":
        return say_busy(state, env) if state.flow is not None else staff.hotline(state, env)
    if name == "baocao":
        return report_commands.report(state, arg, env.today)
    if name == "bantin":
        return Outcome((Reply("report.working"),), changes=(RequestJob("digest"),), state=state)
    if name == "xuatdulieu":
        return report_commands.export(state, arg, env.today)
    return Outcome((Reply("admin.unavailable"), *prompt(state, env)), state=state)
