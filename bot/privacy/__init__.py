"""Personal data and consent (Morocco's law 09-08): the commands people use (router.py) and
access, erasure and retention (service.py)."""
