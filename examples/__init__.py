"""Small srcgrad examples; their emitted gradients are committed under generated/examples.*/
and CI checks them with ``srcgrad gen --check examples/``."""
