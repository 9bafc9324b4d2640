"""Caches between builds: keys, where entries are kept (the runner's disk, the server), restore and save."""
