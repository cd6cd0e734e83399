"""Walk-abouts and inspections (巡查): routes, checkpoints, walks, visits and findings."""
