"""Action plans: pure building blocks (due dates, plan tables, the timeline picture)."""
