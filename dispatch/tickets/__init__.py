"""Tickets: made from calls, numbered, with a timeline of everything that happens to them."""
