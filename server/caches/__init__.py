"""The server's side of caches: what a stage may do with them, and the shared store runners fill and read."""
