"""One module per REST resource; each lists its handler classes in `default_handlers`."""
