"""Scheduled and on-demand work: expiry now; digests, reports, exports and deadlines later."""
