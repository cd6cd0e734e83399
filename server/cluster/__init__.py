"""What several server nodes share through the database: keys every node must agree on, and
leases that let exactly one node run each background job at a time."""
