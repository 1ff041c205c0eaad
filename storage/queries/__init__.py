"""SQL, one module per concern; every function takes the connection it runs on."""
