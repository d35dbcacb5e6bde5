"""The rule-based understanding the bot used before the learned model: a baseline to measure
against, not part of the bot."""
