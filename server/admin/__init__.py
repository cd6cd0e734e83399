"""Administration: bulk imports into an estate (households today)."""
