"""话术库: the answer library the front desk reads from, so the same question gets the same answer."""
