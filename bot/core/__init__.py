"""The core: engine, turn, router, flow base, events, effects, clock, settings, catalogs, outbox."""
