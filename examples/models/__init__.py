"""Model-sized forward functions whose emitted gradients are committed under generated/ for
review (``tools/emitted_size.py`` measures them)."""
