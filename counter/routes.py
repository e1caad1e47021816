"""Every page of an officer at a counter on one blueprint: importing a module adds its routes."""
from counter import officers, rating, workstation
from counter.blueprint import bp

PAGES = (officers, workstation, rating)  # log in and pick a counter; the desk; the citizen rating tablet

__all__ = ["bp"]
