"""What happens after the call: tickets, directory, paging, escalation, jobs, carriers."""
