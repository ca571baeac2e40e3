"""fairpeer's web service: the app factory, and one folder per feature."""
