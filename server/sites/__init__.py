"""Sites: company → estate → grid → building → unit → household (with the owner's contact)."""
