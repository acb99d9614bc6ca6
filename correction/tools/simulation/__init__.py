"""A district in a box: a simulated week of supervision, driven through the real HTTP API."""
