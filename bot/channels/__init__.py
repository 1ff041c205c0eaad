"""Channel adapters: translate a channel's input into engine events and messages back out."""
