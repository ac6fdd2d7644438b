"""Profile B: Marmot v2 ("Dark Matter", MDK 0.9), beside Profile A (``marmot`` proper).

Pure like the rest of ``marmot``: no I/O; time and randomness are parameters. One file
per piece of the protocol (docs/darkmatter.md says what is implemented and tested)::

    components         app component codecs (0x8001 ... 0x800c), canonical decode
    urls               the URL rules of those components
    identity_proof     the 0x8009 per-leaf account identity proof (kind 450, BIP-340)
    draft_proof        the July draft's 0xf2f1 v1 leaf proof (the e43fd5e Dark Matter client)
    proofs             which proof form a leaf or group uses, and checking it
    leaf_data          what a leaf advertises in its app_data_dictionary
    key_package        MLSMessage-framed KeyPackages: lifetime, capabilities, creation
    key_package_event  kind 30443 events
    transport          kind 445 group events and kind 444 welcome rumors
    payloads           app payloads (9, 7, 5, 1009) and group system rows (1210)
    media              encrypted-media-v1/-v2 imeta references
    push               marmot-push-v1 owner proofs (kind 451)
    group              founding, component updates, invite/remove, the commit rules
    changes            the system rows (1210) an applied commit yields
    convergence        the deterministic branch-selection rule
    branches           one member's retained branch tree and its convergence pass
    inbound            445 events into the tree as typed outcomes; joining from a 444
    outbound           app payloads and handshakes out as 445 events
"""
