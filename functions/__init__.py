"""Lambda functions, one package each; `<name>/handler.py` holds `handler(event, context)`."""
