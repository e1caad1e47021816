"""Every page of an officer at a counter on one blueprint: importing a module adds its routes."""
from counter import guide, officers, rating, workstation
from counter.blueprint import bp

PAGES = (officers, workstation, rating, guide)  # log in and pick a counter; the desk; the rating tablet; the guide

__all__ = ["bp"]
