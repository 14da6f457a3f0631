"""The engine core: exact symbolic dimensions (:mod:`.dims`), deciding conditions on them
(:mod:`.constraints`), expanding a spec into a graph of layer instances (:mod:`.graph`), and the
analysis of that graph (:mod:`.engine`)."""
