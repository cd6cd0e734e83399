"""Database plumbing: the declarative base, engine factory and sessions. Models live in their domains."""
