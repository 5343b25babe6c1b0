"""Moving messages: the inbox worker (each user's messages in order) and the outbox sender (retries,
platform limits). Both take ports, so any inbox, outbox or channel will do."""
