"""Twilio, the carrier: its REST client and the meaning of its statuses and codes."""
