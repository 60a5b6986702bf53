-- Members who blocked the bot in their private chat: nothing is sent to them until they unblock it.

-- When Telegram said the member blocked the bot (a my_chat_member update, "kicked", in
-- their private chat, or a 403 "bot was blocked by the user"); NULL once they unblock it.
ALTER TABLE members ADD COLUMN blocked_at TEXT;
