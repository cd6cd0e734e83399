"""Web Push and webhook delivery of notifications."""
