"""Delivery channels for reminders: the console/log, e-mail over SMTP, a group-robot webhook."""
