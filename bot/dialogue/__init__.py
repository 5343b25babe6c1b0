"""What the assistant says: plain functions from a turn's context to a ``Turn``, callable without Rasa."""
