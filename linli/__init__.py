"""Linli (邻里): community self-governance in Telegram group chats."""
