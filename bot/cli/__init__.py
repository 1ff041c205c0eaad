"""Command-line tools: receipts, reports, exports, digests, Zalo tokens."""
