"""Owner-facing progress: QR links to a server-rendered progress page (/p/<token>), printed slips,
grid posters with a report form (/r/<grid token>), and owner-safe photos.

Tokens (see ``tokens.py``): a progress-link token is derived as HMAC(secret, order id, link id), so a
QR can be re-rendered at any time while only its sha256 is stored; a grid token is the grid id plus a
truncated HMAC of it, so posters can be re-printed and nothing is stored for them.
"""
