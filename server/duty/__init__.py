"""After-hours duty: per estate office hours and the on-duty roster (值班表); outside office hours new
complaints and emergencies go to the person on duty first and move down the roster if not accepted."""
