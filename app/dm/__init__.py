"""Profile B ("Dark Matter", Marmot v2) groups in the service layer, beside Profile A.

The protocol is ``marmot.profile_b`` (pure, vector-tested); this package stores it and
drives it: a group's retained branch tree lives in ``storage.repos.branches`` and is
changed only inside one database transaction per input (the storage thread runs them one
at a time), together with the group row, the messages and the outbox entries the input
produced. Services dispatch here by the group's stored profile (``groups.profile``)::

    tree          the tree as rows, the group row's view, our pending commit, system rows
    core          one transaction's shared steps (DB thread): open, converge, save, ...
    apply         inbound input in one transaction: a 445, our acknowledged commit
    send          outbound input in one transaction: payloads, leave, our commits
    service       `DarkMatter`: create, add, remove, rename, leave, send, receive, info
    welcome       joining from a kind 444 (pending until the user accepts)
    key_packages  the invitees' Profile B key packages
"""
