"""motcua server: queue engine, REST API, realtime hub and citizen portal.

The package imports nothing of its own (the app is `server.app.create_app`), so importing
any of its modules never drags the whole app in."""
import os as _os
import sys as _sys

if _os.name == "posix" and _sys.argv[1:2] == ["serve"]:
    # `motcua serve` (or `python -m server.cli serve`) runs on gevent's event loop: patch the
    # standard library before anything imports it (sockets, ssl, select, threads), as gevent
    # asks. Every other use of the package (tests, other commands, the print agent) keeps threads.
    from gevent import monkey as _monkey

    _monkey.patch_all()
