"""Profile B: Marmot v2 ("Dark Matter", MDK 0.9), beside Profile A (``marmot`` proper).

Pure like the rest of ``marmot``: no I/O; time and randomness are parameters. Each file is
one piece of the protocol (see docs/darkmatter.md for what is implemented and tested)::

    key_package      MLSMessage-framed KeyPackages, lifetime and capability rules
"""
