"""The pull-through cache's ports: fetching from remotes (:mod:`.upstream`) and sharing one
download among every client that waits for it (:mod:`.flight`). The rules are in
``satchel.core.remotes`` and ``satchel.core.proxy``; the service in ``satchel.store.proxy``."""
