"""Hangar's server: webhooks, queue, runner API, notifications, REST API."""
