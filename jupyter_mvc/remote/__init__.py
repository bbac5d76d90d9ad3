"""Remotes: sharing versions through object storage."""
