"""The transports: Telegram (aiogram or python-telegram-bot), the console, outbox delivery."""
