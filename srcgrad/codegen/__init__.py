"""srcgrad's code generator: source -> check -> resolve/normalize -> segment -> activity ->
reverse -> optimize/specialise -> specialise_forward -> residuals -> emit, listed in order in
:func:`srcgrad.codegen.pipeline.generate` (DESIGN §4).  The intermediate forms and their
queries are :mod:`srcgrad.codegen.ir`.  Only this package imports libcst and black."""

# the comment over a backward loop's parts made for every step at once
# (:mod:`srcgrad.codegen.step_batches`); a higher order differentiates the module emitted
# without them, and srcgrad/higher.py looks for it (here: reading it imports no libcst)
BATCHED_MARK = "each step's part that reads forward values only, for every step at once"

# the comment over a cotangent allocated for its pieces to be written into their slices
# (:mod:`srcgrad.codegen.tiles`); a higher order differentiates the module emitted without
# them (``out=`` writes into an empty array), and srcgrad/higher.py looks for it
TILED_MARK = "its pieces are written into their slices"
