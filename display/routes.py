"""Every display page on one blueprint: importing a module adds its routes to `bp`."""
from display import announce, screen
from display.blueprint import bp

PAGES = (announce, screen)  # GET /display/<office>/announcement.wav; the lobby TV and counter screens

__all__ = ["bp"]
