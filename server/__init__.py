"""motcua server: queue engine, REST API, realtime hub and citizen portal."""
from .app import create_app

__all__ = ["create_app"]
