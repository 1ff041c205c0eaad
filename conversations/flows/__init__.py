"""One dialogue flow per module."""
