"""srcgrad's code generator: source -> check -> resolve/normalize -> segment -> activity ->
reverse -> optimize/specialise -> specialise_forward -> residuals -> emit, listed in order in
:func:`srcgrad.codegen.pipeline.generate` (DESIGN §4).  The intermediate forms and their
queries are :mod:`srcgrad.codegen.ir`.  Only this package imports libcst and black."""
