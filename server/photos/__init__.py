"""Photo storage: content-addressed blobs (resumable, verified uploads) and owner-safe derivatives."""
