"""People in danger: what is done when a message may be about one (service.py), and the
screen, question and answer that carry it out (router.py)."""
