"""Every back-office page on one blueprint: importing a module adds its routes to `bp`."""
from counter.backoffice import admin, reports, seatmap, supervisor
from counter.backoffice.blueprint import bp

PAGES = (supervisor, seatmap, admin, reports)

__all__ = ["bp"]
