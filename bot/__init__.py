"""Territorial-coaching hotline: a transport-free engine with Telegram and console front ends."""
