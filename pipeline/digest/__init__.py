"""The digest stage: editions per audience, delivery exactly once, and the archive."""
