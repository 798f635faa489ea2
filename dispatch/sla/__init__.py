"""Service-level targets: when a ticket's first response and its resolution are due, on a 24x7
clock or on business hours, and the warnings and breach notices that follow them."""
