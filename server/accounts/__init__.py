"""People who sign in with the forge: their tokens, what they may do with each repository, the repositories
they switch on."""
