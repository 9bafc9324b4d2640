"""The web UI's pages: sign-in, dashboard, repository, build and settings pages, badges (see `webui`)."""
