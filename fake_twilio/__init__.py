"""A stand-in for Twilio that behaves like Twilio: the REST API (``server``) and the
caller's side of a phone call (``phone``). Used by tests, the benchmark and the simulator."""
