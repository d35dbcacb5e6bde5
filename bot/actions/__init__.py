"""What the hotline does with each intent, command and button, one module per concern."""
