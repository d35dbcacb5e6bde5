"""The coaches' web console: inbox, case view, plans board and territory picture."""
