"""The gateway: an aiohttp app that receives messages from the channels and talks to Rasa."""
