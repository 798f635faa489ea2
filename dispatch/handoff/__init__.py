"""The hand-off to the MSP's own tools: an e-mail per ticket change into the PSA's mailbox,
signed JSON webhooks, Slack and Microsoft Teams messages, and recording links people can play.

Every ticket change (``dispatch.tickets.changes``) becomes, in its own transaction, an event
with a stable id and one delivery per destination (``events``); the worker sends them
(``delivery``), retrying for a day, in order per ticket and destination. What each one says
is ``render``'s; how it leaves, ``mail`` and ``webhooks``; the recording link, ``recordings``.
"""
