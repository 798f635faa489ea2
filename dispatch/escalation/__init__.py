"""Escalation: a P1 ticket's policy (who is paged, when, until someone acknowledges), the
technicians' answers to it, and the words of its pages."""
