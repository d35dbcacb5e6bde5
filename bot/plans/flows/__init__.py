"""The action-plan flows: the check an owner answers, and the coaches' plan and commitment
editing."""
