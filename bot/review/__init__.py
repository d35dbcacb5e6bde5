"""The review queue: what the bot could not answer goes to coaches, who file it under a label;
filed messages, masked, become training data of the understanding at the next reload."""
