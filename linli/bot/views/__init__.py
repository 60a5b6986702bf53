"""Per feature: what handlers and jobs both show -- cards, keyboards, the typed button
declarations (linli/bot/buttons.py) -- so jobs never import handlers."""
