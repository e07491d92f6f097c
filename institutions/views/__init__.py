"""The registry's pages, one module per concern."""
