"""People in danger: asking when the understanding is not sure (router.py). The emergency case
itself is opened by the cases feature (bot/cases/actor_side.py)."""
