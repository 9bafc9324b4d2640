"""Notifications: whether a build's commit status and email are sent (`cache`), what they say (`summary`,
`templates`), and sending them to the forge (`commit_status`) and over SMTP (`email`), from the database.

These are library functions; the arq jobs in `server.jobs` call them in order, once per outbox row, and decide
about retries from `NotifyError.retryable`.
"""
