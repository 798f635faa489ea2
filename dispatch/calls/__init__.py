"""Calls into tickets: what Twilio's callbacks say about a call that reached a voicemail box
becomes one ticket (a P1 handed to escalation), kept on disk while the database is away."""
