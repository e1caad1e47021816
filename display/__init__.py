"""Màn hình chờ: the lobby TV and counter screens (screen.py) and their spoken
announcements (announce.py); routes.py gathers them on one blueprint."""
