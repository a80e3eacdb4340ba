"""srcgrad's code generator: source -> check -> resolve -> normalize -> activity -> reverse ->
optimize -> emit (DESIGN §4).  Only this package imports libcst and black."""
