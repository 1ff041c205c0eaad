"""The runtime between the engine and the world: the dispatcher (one transaction per batch of
events), the facts an event needs, the recorder of changes, the typed outbox and its sender."""
