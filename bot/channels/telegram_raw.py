"""An update's JSON trimmed to what the bot reads, before the Telegram library parses it.

The bot reads a message's text, caption, photo and document; every other kind of message
(a poll, a dice, a game, a venue, a story, a giveaway … and whatever the Bot API adds) is
only named for the stray-media hint. Its object is taken out of the JSON first, so the
library never parses it: a poll that a newer library version cannot parse (a field it
requires and Telegram did not send) is a stray message like a sticker, never a failed update.
"""

from __future__ import annotations

from typing import Any

#: The message fields the bot reads; every other field is taken out before parsing.
KEPT = frozenset(
    {
        "message_id", "message_thread_id", "from", "sender_chat", "date", "chat", "text",
        "caption", "photo", "document", "media_group_id", "reply_to_message", "edit_date",
        "migrate_to_chat_id", "migrate_from_chat_id", "reply_markup", "is_topic_message",
    }
)  # fmt: skip
#: Kinds of message the hint names (catalog ``input.what.<kind>``), in the order looked for.
NAMED = (
    "sticker", "voice", "audio", "video", "video_note", "animation", "location", "venue",
    "contact", "poll", "dice", "game", "story", "giveaway", "giveaway_winners", "paid_media",
    "checklist", "invoice",
)  # fmt: skip
#: Fields that describe a message (or are a service message) rather than being its content:
#: a message with only these (and no text or file) is not answered.
ABOUT = frozenset(
    {
        "entities", "caption_entities", "link_preview_options", "forward_origin",
        "is_automatic_forward", "has_protected_content", "author_signature", "effect_id",
        "show_caption_above_media", "has_media_spoiler", "external_reply", "quote",
        "reply_to_story", "via_bot", "sender_boost_count", "sender_business_bot",
        "business_connection_id", "is_from_offline", "is_paid_post", "paid_star_count",
        "sender_tag", "direct_messages_topic", "suggested_post_info", "reply_to_checklist_task_id",
        "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
        "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
        "channel_chat_created", "message_auto_delete_timer_changed", "pinned_message",
        "successful_payment", "refunded_payment", "users_shared", "chat_shared",
        "connected_website", "write_access_allowed", "passport_data",
        "proximity_alert_triggered", "boost_added", "chat_background_set",
        "forum_topic_created", "forum_topic_edited", "forum_topic_closed",
        "forum_topic_reopened", "general_forum_topic_hidden", "general_forum_topic_unhidden",
        "giveaway_created", "giveaway_completed", "video_chat_scheduled", "video_chat_started",
        "video_chat_ended", "video_chat_participants_invited", "web_app_data", "gift",
        "unique_gift", "paid_message_price_changed", "checklist_tasks_done",
        "checklist_tasks_added", "direct_message_price_changed",
    }
)  # fmt: skip


def readable(raw: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A copy of ``raw`` whose messages keep only :data:`KEPT` fields, and the kind of the
    update's own message when it is a stray one (one of :data:`NAMED`, "other" for a kind
    the bot does not know yet); "" when it carries text, a file, or is only a service note."""
    update = dict(raw)
    stray = ""
    for key in ("message", "edited_message"):
        body = update.get(key)
        if isinstance(body, dict):
            update[key], stray = _trimmed(body)
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        update["callback_query"] = {**query, "message": _trimmed(query["message"])[0]}
    return update, stray


def _trimmed(message: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The message's :data:`KEPT` fields and its stray kind. A field sent as ``null`` is
    read as absent (the Bot API leaves out what a message lacks), so a poll with
    ``"text": null`` is a poll. A message with nothing the bot reads and no field that
    makes it a service note or a decoration is "other": a private chat always hears back."""
    present = {k: v for k, v in message.items() if v is not None}
    kept = {k: v for k, v in present.items() if k in KEPT}
    replied = kept.get("reply_to_message")
    if isinstance(replied, dict):
        kept["reply_to_message"] = _trimmed(replied)[0]
    if any(k in kept for k in ("text", "photo", "document")):
        return kept, ""
    dropped = [k for k in present if k not in KEPT]
    named = next((k for k in NAMED if k in dropped), "")
    if named:
        return kept, named
    return kept, "" if dropped and all(k in ABOUT for k in dropped) else "other"
