"""Staff accounts: roles, departments, grids owned, passwords, bearer tokens, login throttling."""
