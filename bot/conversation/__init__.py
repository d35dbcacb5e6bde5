"""The conversation itself: menu, help, language, the framework, greetings (router.py), and
answers from the knowledge base with /reload (knowledge.py)."""
