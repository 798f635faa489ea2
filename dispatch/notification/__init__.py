"""Notification: sending messages and calls to people exactly once, and following their delivery
on neutral states. The carrier behind it is Twilio (``twilio/``) or the console outbox."""
