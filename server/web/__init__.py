"""HTTP wiring shared by every domain's routes: dependencies, error rendering, app context."""
