"""HTTP routes: webhooks, the runner API, the REST API and live streams."""
