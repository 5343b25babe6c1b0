"""Custom Rasa components. They run inside the Rasa environment (rasa==3.6.21), not the app's."""
