"""The residents' side of the simulator over HTTP (`/sim/...`), one small function per route.

A POST route takes the JSON body and acts on the Simulator (`Action`); a GET route reads it
(`Reader`). `user_routes(sim)` turns the two tables into aiohttp handlers: JSON in, JSON out,
errors as {"error": "..."} with 409 for something a Telegram user could not do (SimError)
and 400 for a malformed request. The routes are listed in `linli.sim.server`'s docstring.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from linli.sim.core import SentMessage, SimError, Simulator

Body = dict[str, Any]
Action = Callable[[Simulator, Body], Body]
Reader = Callable[[Simulator, web.Request], Body]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def message_json(message: SentMessage) -> dict[str, Any]:
    """A transcript entry: what a user sees of one message."""
    return {
        "message_id": message.message_id,
        "chat_id": message.chat_id,
        "from_bot": message.from_bot,
        "sender_id": message.sender_id,
        "date": int(message.date.timestamp()),
        "text": message.content,
        "html": message.html,
        "buttons": [
            [{"text": b.text, "callback_data": b.callback_data, "url": b.url} for b in row]
            for row in message.buttons
        ],
        "photo": message.has_photo,
        "document": message.document.file_name if message.document else None,
        "location": list(message.location) if message.location else None,
        "sticker": message.sticker,
        "service": sorted(message.service) if message.service else None,
        "reply_to": message.reply_to,
        "deleted": message.deleted,
        "edits": message.edits,
        "pinned": message.pinned,
    }


def _chat_of(body: Body) -> int:
    """The `chat` of a request, by default the user's private chat."""
    chat = body.get("chat")
    return int(chat) if chat is not None else int(body["user"])


def _int_or_none(value: Any) -> int | None:
    return int(value) if value is not None else None


# --- people and groups


def create_user(sim: Simulator, body: Body) -> Body:
    user = sim.create_user(
        int(body["id"]),
        str(body["first_name"]),
        body.get("last_name"),
        body.get("username"),
        body.get("language_code"),
    )
    return {"id": user.id, "first_name": user.first_name}


def create_group(sim: Simulator, body: Body) -> Body:
    owner = sim.users.get(int(body["owner"])) if body.get("owner") else None
    group = sim.create_group(int(body["id"]), str(body["title"]), owner=owner)
    for uid in body.get("members", []):
        group.members.setdefault(int(uid), "member")
    if body.get("bot_added_by") is not None:
        sim.add_bot_to_group(group, int(body["bot_added_by"]), admin=bool(body.get("admin")))
    return {"id": group.id, "title": group.title, "type": group.type}


def add_bot(sim: Simulator, body: Body) -> Body:
    sim.add_bot_to_group(int(body["group"]), int(body["by"]), admin=bool(body.get("admin")))
    return {}


def remove_bot(sim: Simulator, body: Body) -> Body:
    sim.remove_bot_from_group(int(body["group"]), int(body["by"]))
    return {}


def add_member(sim: Simulator, body: Body) -> Body:
    by = body.get("by")
    sim.add_member(int(body["group"]), int(body["user"]), int(by) if by else None)
    return {}


def remove_member(sim: Simulator, body: Body) -> Body:
    by = body.get("by")
    sim.remove_member(int(body["group"]), int(body["user"]), int(by) if by else None)
    return {}


def block(sim: Simulator, body: Body) -> Body:
    sim.block_bot(int(body["user"]))
    return {}


def unblock(sim: Simulator, body: Body) -> Body:
    sim.unblock_bot(int(body["user"]))
    return {}


# --- messages


def start(sim: Simulator, body: Body) -> Body:
    return {"message_id": sim.start_private(int(body["user"]), body.get("payload"))}


def send(sim: Simulator, body: Body) -> Body:
    message_id = sim.send_text(
        int(body["user"]),
        _chat_of(body),
        str(body["text"]),
        reply_to=_int_or_none(body.get("reply_to")),
    )
    return {"message_id": message_id}


def photo(sim: Simulator, body: Body) -> Body:
    return {"message_id": sim.send_photo(int(body["user"]), _chat_of(body), body.get("caption"))}


def location(sim: Simulator, body: Body) -> Body:
    message_id = sim.send_location(
        int(body["user"]), _chat_of(body), float(body["lat"]), float(body["lon"])
    )
    return {"message_id": message_id}


def document(sim: Simulator, body: Body) -> Body:
    message_id = sim.send_document(
        int(body["user"]),
        _chat_of(body),
        str(body.get("file_name", "note.txt")),
        str(body.get("text", "hello\n")).encode(),
    )
    return {"message_id": message_id}


def sticker(sim: Simulator, body: Body) -> Body:
    message_id = sim.send_sticker(int(body["user"]), _chat_of(body), body.get("emoji", "👍"))
    return {"message_id": message_id}


# --- buttons


def press(sim: Simulator, body: Body) -> Body:
    query_id = sim.press(
        int(body["user"]),
        _chat_of(body),
        str(body["label"]),
        message_id=_int_or_none(body.get("message_id")),
    )
    return {"query_id": query_id}


def callback(sim: Simulator, body: Body) -> Body:
    chat_id = _chat_of(body)
    message_id = body.get("message_id")
    if message_id is None:
        last = sim.last(chat_id)
        if last is None:
            raise SimError(f"the bot has sent nothing in chat {chat_id}")
        message_id = last.message_id
    query_id = sim.send_callback(int(body["user"]), chat_id, int(message_id), str(body["data"]))
    return {"query_id": query_id}


# --- updates


def redeliver(sim: Simulator, body: Body) -> Body:
    update = sim.redeliver(_int_or_none(body.get("update_id")))
    return {"update_id": update["update_id"]}


POSTS: dict[str, Action] = {
    "/sim/users": create_user,
    "/sim/groups": create_group,
    "/sim/start": start,
    "/sim/send": send,
    "/sim/photo": photo,
    "/sim/location": location,
    "/sim/document": document,
    "/sim/sticker": sticker,
    "/sim/press": press,
    "/sim/callback": callback,
    "/sim/bot/add": add_bot,
    "/sim/bot/remove": remove_bot,
    "/sim/members/add": add_member,
    "/sim/members/remove": remove_member,
    "/sim/block": block,
    "/sim/unblock": unblock,
    "/sim/redeliver": redeliver,
}


# --- reading


def transcript(sim: Simulator, request: web.Request) -> Body:
    chat_id = int(request.match_info["chat_id"])
    users_too = request.query.get("users") in ("1", "true")
    messages = sim.transcript(chat_id, include_users=users_too)
    return {"messages": [message_json(m) for m in messages]}


def alerts(sim: Simulator, request: web.Request) -> Body:
    found = sim.alerts(int(request.match_info["user_id"]))
    return {"alerts": [{"text": a.text, "show_alert": a.show_alert, "url": a.url} for a in found]}


def calls(sim: Simulator, request: web.Request) -> Body:
    method = request.query.get("method", "").lower()
    chosen = [c for c in sim.calls if not method or c.method.lower() == method]
    return {
        "calls": [
            {
                "method": c.method,
                "params": c.params,
                "status": c.status,
                "at": c.at,
                "description": c.description,
            }
            for c in chosen
        ]
    }


def state(sim: Simulator, request: web.Request) -> Body:
    hook = sim.webhook
    return {
        "pending_updates": len(sim.pending_updates()),
        "webhook": hook.url if hook else None,
        "flood_429s": sim.flood_429s,
        "calls": len(sim.calls),
        "users": sorted(sim.users),
        "groups": sorted(sim.groups),
        "bot_username": sim.bot_username,
    }


GETS: dict[str, Reader] = {
    "/sim/transcript/{chat_id}": transcript,
    "/sim/alerts/{user_id}": alerts,
    "/sim/calls": calls,
    "/sim/state": state,
}


# --- the aiohttp side


def user_routes(sim: Simulator) -> dict[str, Handler]:
    """ "METHOD /path" -> handler, for every route above."""
    routes = {f"POST {path}": _post_route(sim, action) for path, action in POSTS.items()}
    routes.update({f"GET {path}": _get_route(sim, reader) for path, reader in GETS.items()})
    return routes


def _post_route(sim: Simulator, action: Action) -> Handler:
    async def route(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        try:
            result = action(sim, body)
        except SimError as exc:
            return web.json_response({"error": str(exc)}, status=409, dumps=dumps)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad request: {exc!r}"}, status=400, dumps=dumps)
        return web.json_response({"ok": True, **result}, dumps=dumps)

    return route


def _get_route(sim: Simulator, reader: Reader) -> Handler:
    async def route(request: web.Request) -> web.Response:
        return web.json_response(reader(sim, request), dumps=dumps)

    return route


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


__all__ = ["GETS", "POSTS", "message_json", "user_routes"]
