"""The web server (Starlette): webhooks, health, Open311, the public results page."""
