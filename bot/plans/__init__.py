"""Action plans: import, the /plan router, the plan flows, cards, reminders, the committee
report, the timeline picture and the export."""
