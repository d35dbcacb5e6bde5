"""Cases: the hotline's issue log, routed to the coach of that plan or territory."""
