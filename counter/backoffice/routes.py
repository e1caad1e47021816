"""Every back-office page on one blueprint: importing a module adds its routes to `bp`."""
from counter.backoffice import admin, dossiers, reports, seatmap, supervisor
from counter.backoffice.blueprint import bp

PAGES = (supervisor, seatmap, admin, reports, dossiers)

__all__ = ["bp"]
