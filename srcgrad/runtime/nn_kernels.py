"""The nn kernels (DESIGN §8): primitives that :mod:`srcgrad.nn.functional` calls, and the
helpers their rules in :mod:`srcgrad.rules.nn_kernels` call.

Every kernel takes channels-first input (``N, C, H, W``) and per-axis pairs for its sizes;
one-dimensional layers reach them with a unit height.  Each loops over the kernel's offsets
(``kh * kw`` array operations at most), never over windows or batch entries, and reads its
array namespace from its inputs, so the same code runs on a device.

- :func:`im2col` lays the windows out as one ``(C * kh * kw, N * H_out * W_out)`` matrix:
  a convolution is then one matrix product with the weight ``(C_out, C * kh * kw)``, and
  the product keeps the matrix for the weight's gradient.  Its columns come batch first
  (each image's outputs contiguous, as batch-first arrays downstream want them) or batch
  innermost (long copy runs for short rows); :func:`conv_layout` chooses.
  :func:`col2im` adds the columns' cotangents back, one strided slice per kernel offset.
- :func:`sigmoid` is the logistic function through the namespace's vectorised ``exp``.
- :func:`max_pool2d` and :func:`avg_pool2d` pool windows; the cotangent of a maximum goes to
  the first maximum of its window (in row-major window order), as PyTorch sends it.
- :func:`embedding` gathers rows; its cotangent is one ``bincount`` over a flattened index.
- :func:`cross_entropy` is softmax cross-entropy of logits against integer classes; its
  cotangent is the closed form ``(softmax - onehot) * weight * g / total``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from srcgrad.backend import namespace
from srcgrad.errors import SrcgradError
from srcgrad.runtime.arrays import ShapeDtype, shape_only

__all__ = [
    "avg_pool2d",
    "col2im",
    "unfold",
    "max_pool2d_cotangent",
    "avg_pool2d_cotangent",
    "embedding_cotangent",
    "cross_entropy_cotangent",
    "cross_entropy_weight_cotangent",
    "class_onehot",
    "class_weights",
    "class_weights_cotangent",
]


def _refuse(message: str, hint: str) -> None:
    raise SrcgradError(message, hint=hint, construct="nn-kernel")


def _out_size(size: int, k: int, s: int, p: int, d: int) -> int:
    out = (size + 2 * p - d * (k - 1) - 1) // s + 1
    if out < 1:
        _refuse(
            f"a window of {k} (dilation {d}) does not fit an axis of {size} padded by {p}",
            "use a smaller kernel, more padding or a larger input",
        )
    return out


def _pair(value: Any, name: str, least: int) -> tuple[int, int]:
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    if not ok or not all(isinstance(v, int) and v >= least for v in value):
        _refuse(
            f"{name} must be a pair of ints >= {least}, got {value!r}",
            f"pass {name} as a tuple (a, b); the layers (nn.Conv2d, nn.MaxPool2d, ...) "
            "turn an int into a pair for you",
        )
    return value[0], value[1]


def _geometry(shape: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any):
    if len(shape) != 4:
        _refuse(
            f"the nn kernels take channels-first (N, C, H, W) input, got shape "
            f"{tuple(shape)}",
            "add the batch and channel axes (x[None, None]) or use the 1-D layers",
        )
    n, c, h, w = shape
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    _pair(stride, "stride", 1)
    _pair(padding, "padding", 0)
    _pair(dilation, "dilation", 1)
    ho = _out_size(h, kh, stride[0], padding[0], dilation[0])
    wo = _out_size(w, kw, stride[1], padding[1], dilation[1])
    return n, c, h, w, kh, kw, ho, wo


def _window(i: int, j: int, ho: int, wo: int, stride: Any, dilation: Any) -> Any:
    """The slices of a padded input that kernel offset (i, j) reads, one per output."""
    r0, c0 = i * dilation[0], j * dilation[1]
    return (
        slice(None),
        slice(None),
        slice(r0, r0 + stride[0] * (ho - 1) + 1, stride[0]),
        slice(c0, c0 + stride[1] * (wo - 1) + 1, stride[1]),
    )


def _padded(x: Any, padding: Any, fill: float) -> Any:
    """``x`` (N, C, H, W) padded by ``fill`` (``x`` itself without padding)."""
    if not (padding[0] or padding[1]):
        return x
    xp = namespace(x)
    n, c, h, w = x.shape
    out = xp.full((n, c, h + 2 * padding[0], w + 2 * padding[1]), fill, dtype=x.dtype)
    out[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w] = x
    return out


def _unpadded(z: Any, shape: Any, padding: Any) -> Any:
    if not (padding[0] or padding[1]):
        return z
    h, w = shape[2], shape[3]
    return z[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + w].copy()


# -- activations -----------------------------------------------------------------------
def sigmoid(x: Any) -> Any:
    """``1 / (1 + exp(-x))`` entry-wise, in the dtype of ``x``: the array namespace's
    vectorised ``exp`` (in float32 several times as fast as ``scipy.special.expit``).
    Where ``exp(-x)`` overflows to inf the result is 0, its limit, without a warning."""
    xp = namespace(x)
    if not hasattr(x, "shape"):  # a list or a number, as numpy's functions take them
        x = xp.asarray(x)
    with np.errstate(over="ignore"):
        e = xp.exp(-x)
    return xp.divide(1.0, xp.add(1.0, e, dtype=e.dtype), dtype=e.dtype)


# -- convolution -----------------------------------------------------------------------
_SHORT_ROWS = 16  # output rows shorter than this are copied batch innermost


def conv_layout(
    shape: Any, strides: Any, h_out: int, w_out: int
) -> tuple[bool, Any, Any]:
    """The memory layout of a convolution of an (N, C, H, W) input of ``shape`` and
    ``strides`` with (``h_out``, ``w_out``) outputs: ``(batch_first, sizes, axes)``, where
    ``batch_first`` is :func:`im2col`'s layout, ``sizes`` the (N, H_out, W_out) sizes in
    the order of its columns, and ``axes`` the transposition that turns a
    (C_out, *sizes) product into (N, C_out, H_out, W_out).

    Batch first when the output rows are at least 16 entries long and the input is not
    laid out batch innermost already; otherwise each window row would be a short run and
    the batch goes innermost, where the runs are ``W_out * N`` long.  Only the speed
    depends on the choice, never a value."""
    n = shape[0]
    if w_out >= _SHORT_ROWS and not _batch_innermost(shape, strides):
        return True, (n, h_out, w_out), (1, 0, 2, 3)
    return False, (h_out, w_out, n), (3, 0, 1, 2)


def _batch_innermost(shape: Any, strides: Any) -> bool:
    """Whether the batch axis has the smallest stride of the axes longer than 1 (a
    convolution's batch-innermost output, and what is computed from it entry-wise)."""
    if strides is None or shape[0] == 1:
        return False
    return all(strides[0] < strides[a] for a in range(1, 4) if shape[a] > 1)


def im2col(
    x: Any,
    kernel_size: Any,
    stride=(1, 1),
    padding=(0, 0),
    dilation=(1, 1),
    batch_first=True,
):
    """The windows of ``x`` (N, C, H, W) as a ``(C * kh * kw, N * H_out * W_out)`` matrix:
    row ``(c, i, j)`` holds the padded input at channel ``c``, row ``oh * stride + i *
    dilation``, column ``ow * stride + j * dilation`` of batch entry ``n``, in column
    ``(n, oh, ow)`` (``batch_first``) or ``(oh, ow, n)`` (batch innermost).

    A convolution is then one matrix product with the weight ``(C_out, C * kh * kw)``,
    which keeps the matrix for the weight's gradient.  Batch first, its output rows hold
    each image's outputs contiguously, as the caller's batch-first arrays do.  Batch
    innermost, each window row is one run of ``W_out * N`` entries, a faster copy for
    short rows (the input is first laid out (C, H, W, N): no copy when it is so already,
    as such a convolution's output is).  Either way the windows are a read-only strided
    view of the padded input, copied once (twice, see :func:`_windows_batch_first`)."""
    xp = namespace(x)
    n, c, h, w, kh, kw, ho, wo = _geometry(
        x.shape, kernel_size, stride, padding, dilation
    )
    if batch_first:
        xpad = _padded(x, padding, 0)
        cols = _windows_batch_first(xpad, kh, kw, ho, wo, stride, dilation)
        return cols.reshape(c * kh * kw, n * ho * wo)
    xt = _padded_batch_last(x, padding)
    sn, sc, sh, sw = xt.strides
    shape = (c, kh, kw, ho, wo, n)
    steps = (sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn)
    cols = xp.ascontiguousarray(xp.lib.stride_tricks.as_strided(xt, shape, steps))
    return cols.reshape(c * kh * kw, ho * wo * n)


def _windows_batch_first(xpad, kh, kw, ho, wo, stride, dilation):
    """The (C, kh, kw, N, H_out, W_out) windows of a padded (N, C, H, W) input, copied.

    With a row stride of 1 the copy goes in two steps: first the kw column-shifted
    (N, C, H, W_out) slices, whose rows are W_out long, then the windows of those, each a
    contiguous run of H_out * W_out entries (one copy of the windows would move rows of
    W_out entries kh times as often)."""
    xp = namespace(xpad)
    view = xp.lib.stride_tricks.as_strided
    n, c, hp = xpad.shape[:3]
    dh, dw = dilation
    sn, sc, sh, sw = xpad.strides
    shape = (c, kh, kw, n, ho, wo)
    if stride[0] != 1 or kh == 1:
        steps = (sc, sh * dh, sw * dw, sn, sh * stride[0], sw * stride[1])
        return xp.ascontiguousarray(view(xpad, shape, steps))
    steps = (sw * dw, sn, sc, sh, sw * stride[1])
    shifted = xp.ascontiguousarray(view(xpad, (kw, n, c, hp, wo), steps))
    sj, sn, sc, sh, sw = shifted.strides
    return xp.ascontiguousarray(view(shifted, shape, (sc, sh * dh, sj, sn, sh, sw)))


def _padded_batch_last(x: Any, padding: Any) -> Any:
    """``x`` (N, C, H, W) zero-padded and laid out (C, H, W, N), seen as (N, C, H, W)."""
    xp = namespace(x)
    n, c, h, w = x.shape
    p0, p1 = padding
    if not (p0 or p1):
        return xp.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    xt = xp.zeros((c, h + 2 * p0, w + 2 * p1, n), dtype=x.dtype)
    xt[:, p0 : p0 + h, p1 : p1 + w, :] = x.transpose(1, 2, 3, 0)
    return xt.transpose(3, 0, 1, 2)


@shape_only(1)
def col2im(
    g: Any,
    x: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    batch_first: Any = True,
):
    """The cotangent of ``x`` for ``cols = im2col(x, ...)``: each column entry added back to
    the input entry it was read from, one strided slice per kernel offset, in the layout
    ``batch_first`` chose (batch innermost: the result is a (N, C, H, W) view of a
    (C, H, W, N) array)."""
    xp = namespace(g)
    n, c, h, w, kh, kw, ho, wo = _geometry(
        x.shape, kernel_size, stride, padding, dilation
    )
    p0, p1 = padding
    if batch_first:
        gc = xp.reshape(g, (c, kh, kw, n, ho, wo))
        z = xp.zeros((n, c, h + 2 * p0, w + 2 * p1), dtype=x.dtype)
        for i in range(kh):
            for j in range(kw):
                win = _window(i, j, ho, wo, stride, dilation)
                z[win] += gc[:, i, j].transpose(1, 0, 2, 3)
        return _unpadded(z, x.shape, padding)
    gc = xp.reshape(g, (c, kh, kw, ho, wo, n))
    z = xp.zeros((c, h + 2 * p0, w + 2 * p1, n), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            win = _window(i, j, ho, wo, stride, dilation)
            z[:, win[2], win[3], :] += gc[:, i, j]
    return z[:, p0 : p0 + h, p1 : p1 + w, :].transpose(3, 0, 1, 2)


def col2im_sum(
    cols: Any,
    output_size: Any,
    kernel_size: Any,
    stride=(1, 1),
    padding=(0, 0),
    dilation=(1, 1),
    batch_first=True,
):
    """The adjoint of :func:`im2col` as a primitive: the (N, C, H, W) array of
    ``output_size`` whose entries are the sums of the column entries read from them (a
    transposed convolution's last step), added in the layout ``batch_first`` chooses."""
    like = ShapeDtype(tuple(output_size), cols.dtype)
    return col2im(cols, like, kernel_size, stride, padding, dilation, batch_first)


def unfold(
    g: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    batch_first: Any = True,
) -> Any:
    """The cotangent of ``cols`` for ``ans = col2im_sum(cols, ...)``: ``im2col`` of ``g``."""
    return im2col(g, kernel_size, stride, padding, dilation, batch_first)


# -- pooling ---------------------------------------------------------------------------
def max_pool2d(x: Any, kernel_size: Any, stride: Any, padding=(0, 0), dilation=(1, 1)):
    """The maximum of each window of ``x`` (N, C, H, W); padding counts as -inf."""
    _, _, _, _, kh, kw, ho, wo = _geometry(
        x.shape, kernel_size, stride, padding, dilation
    )
    _pool_padding(kernel_size, padding)
    xp = namespace(x)
    xpad = _padded(x, padding, -float("inf"))
    wins = [
        xpad[_window(i, j, ho, wo, stride, dilation)]
        for i in range(kh)
        for j in range(kw)
    ]
    if len(wins) == 1:
        return wins[0].copy()
    out = xp.maximum(wins[0], wins[1])  # laid out as x is (a copy would be row-major)
    for win in wins[2:]:
        out = xp.maximum(out, win)
    return out


def _pool_padding(kernel_size: Any, padding: Any) -> None:
    if 2 * padding[0] > kernel_size[0] or 2 * padding[1] > kernel_size[1]:
        _refuse(
            f"pooling padding {tuple(padding)} exceeds half the window "
            f"{tuple(kernel_size)}",
            "padding may be at most half the kernel size, as in PyTorch",
        )


def max_pool2d_cotangent(
    g: Any, ans: Any, x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any
) -> Any:
    """The cotangent of ``x`` for ``ans = max_pool2d(x, ...)``: each window's cotangent goes
    to its first maximum (offsets in row-major order), none to later ties."""
    xp = namespace(g, x)
    _, _, _, _, kh, kw, ho, wo = _geometry(
        x.shape, kernel_size, stride, padding, dilation
    )
    xpad = _padded(x, padding, -float("inf"))
    z = xp.zeros_like(xpad)  # laid out as x is, as the windows' cotangents are
    open_ = xp.ones_like(ans, dtype=bool)  # windows whose maximum is not found yet
    for i in range(kh):
        for j in range(kw):
            key = _window(i, j, ho, wo, stride, dilation)
            hit = (xpad[key] == ans) & open_
            z[key] += xp.where(hit, g, 0)
            open_ = open_ & ~hit
    return _unpadded(z, x.shape, padding)


def avg_pool2d(
    x: Any, kernel_size: Any, stride: Any, padding=(0, 0), count_include_pad=True
):
    """The mean of each window of ``x`` (N, C, H, W); zero padding, counted in the mean
    unless ``count_include_pad`` is False."""
    _, _, _, _, kh, kw, ho, wo = _geometry(
        x.shape, kernel_size, stride, padding, (1, 1)
    )
    _pool_padding(kernel_size, padding)
    xpad = _padded(x, padding, 0)
    wins = [
        xpad[_window(i, j, ho, wo, stride, (1, 1))]
        for i in range(kh)
        for j in range(kw)
    ]
    total = wins[0] if len(wins) == 1 else wins[0] + wins[1]  # laid out as x is
    for win in wins[2:]:
        total += win  # a fresh array: added in place
    return total / _divisor(x, kernel_size, stride, padding, count_include_pad)


def _tiles(shape: Any, kernel_size: Any, stride: Any, padding: Any) -> bool:
    """Whether the windows tile an (N, C, H, W) input exactly: stride equal to the window,
    no padding, H and W multiples of the window."""
    kh, kw = kernel_size
    return (
        tuple(stride) == (kh, kw)
        and not (padding[0] or padding[1])
        and shape[2] % kh == 0
        and shape[3] % kw == 0
    )


def _divisor(
    x: Any, kernel_size: Any, stride: Any, padding: Any, count_include_pad: bool
) -> Any:
    """What each window's sum is divided by: the window's size, or (``count_include_pad``
    False) how many unpadded entries it covers, shaped (H_out, W_out)."""
    kh, kw = kernel_size
    if count_include_pad or not (padding[0] or padding[1]):
        return float(kh * kw)
    xp = namespace(x)
    h, w = x.shape[2], x.shape[3]
    _, _, _, _, _, _, ho, wo = _geometry(x.shape, kernel_size, stride, padding, (1, 1))
    rows = xp.arange(ho) * stride[0] - padding[0]
    cols = xp.arange(wo) * stride[1] - padding[1]
    rh = xp.minimum(rows + kh, h) - xp.maximum(rows, 0)
    cw = xp.minimum(cols + kw, w) - xp.maximum(cols, 0)
    return (rh[:, None] * cw[None, :]).astype(x.dtype)


def _memory_order(x: Any, g: Any) -> list[int]:
    """The axes of ``x`` (or, when only its shape is kept, of ``g``) from the largest
    stride to the smallest: the order its entries lie in memory (a convolution's output
    is a (C, H, W, N) array seen as (N, C, H, W))."""
    strides = getattr(x, "strides", None) or g.strides
    return sorted(range(4), key=lambda a: -strides[a])


@shape_only(1)
def avg_pool2d_cotangent(
    g: Any, x: Any, kernel_size: Any, stride: Any, padding: Any, count_include_pad: Any
) -> Any:
    """The cotangent of ``x`` for ``ans = avg_pool2d(x, ...)``: each window's cotangent,
    divided as the window's sum was, added to every entry of the window."""
    xp = namespace(g)
    _, _, h, w, kh, kw, ho, wo = _geometry(
        x.shape, kernel_size, stride, padding, (1, 1)
    )
    share = g / _divisor(x, kernel_size, stride, padding, count_include_pad)
    n, c = x.shape[0], x.shape[1]
    if _tiles(x.shape, kernel_size, stride, padding):  # each entry repeated kh x kw
        order = _memory_order(x, g)  # laid out as x is: no mixed layouts downstream
        back = [order.index(a) for a in range(4)]
        t = share.transpose(order)
        if order[-1] in (2, 3):  # W or H innermost: a broadcast's runs would be kw long
            t = xp.repeat(t, kw, axis=order.index(3))
            return xp.repeat(t, kh, axis=order.index(2)).transpose(back)
        units, spread, merged = [], [], []  # one broadcast copy, runs along N or C
        for a, m in zip(order, t.shape):
            k = kh if a == 2 else kw if a == 3 else 1
            units += [m, 1] if k > 1 else [m]
            spread += [m, k] if k > 1 else [m]
            merged.append(m * k)
        tiled = xp.broadcast_to(xp.reshape(t, units), spread)
        return xp.reshape(tiled, merged).transpose(back)
    z = xp.zeros((n, c, h + 2 * padding[0], w + 2 * padding[1]), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            z[_window(i, j, ho, wo, stride, (1, 1))] += share
    return _unpadded(z, x.shape, padding)


# -- lookup ----------------------------------------------------------------------------
def embedding(indices: Any, weight: Any) -> Any:
    """Rows of ``weight`` (num_embeddings, dim) picked by the integer ``indices``."""
    return weight[indices]


@shape_only(2)
def embedding_cotangent(g: Any, indices: Any, weight: Any) -> Any:
    """The cotangent of ``weight`` for ``ans = embedding(indices, weight)``: the rows of
    ``g`` summed into the rows they were read from, by one ``bincount`` over the flattened
    index ``row * dim + column``."""
    xp = namespace(g, indices)
    rows, dim = weight.shape[0], weight.shape[1]
    idx = indices.reshape(-1) % rows  # negative indices read from the end
    flat = (idx[:, None] * dim + xp.arange(dim)[None, :]).reshape(-1)
    total = xp.bincount(flat, weights=g.reshape(-1), minlength=rows * dim)
    return total.reshape(rows, dim).astype(weight.dtype, copy=False)


# -- softmax cross-entropy -------------------------------------------------------------
def class_onehot(target: Any, ignore_index: int, like: Any) -> Any:
    """1 at each sample's class along axis 1 of ``like`` (N, C, *d), in its dtype; a
    sample at ``ignore_index`` has its 1 at class 0 (its weight is 0)."""
    xp = namespace(like, target)
    safe = xp.expand_dims(xp.where(target != ignore_index, target, 0), 1)
    classes = xp.reshape(xp.arange(like.shape[1]), (1, -1) + (1,) * (like.ndim - 2))
    return (classes == safe).astype(like.dtype)


def class_weights(target: Any, weight: Any, ignore_index: int, like: Any) -> Any:
    """Each sample's weight: ``weight[t]`` (1 without weights), 0 at ``ignore_index``
    (``like``'s dtype without weights)."""
    return _class_weights(target, weight, ignore_index, like.dtype)


def class_weights_cotangent(g: Any, target: Any, weight: Any, ignore_index: int) -> Any:
    """The cotangent of the class weights given ``g``, that of each sample's weight:
    ``g`` summed into the samples' classes (``None`` without weights)."""
    if weight is None:
        return None
    xp = namespace(g, target)
    keep = target != ignore_index
    safe = xp.where(keep, target, 0)
    share = xp.reshape(g * keep, (-1,))
    out = xp.bincount(xp.reshape(safe, (-1,)), weights=share, minlength=weight.shape[0])
    return out.astype(weight.dtype, copy=False)


def _class_weights(target: Any, weight: Any, ignore_index: int, dtype: Any) -> Any:
    xp = namespace(target)
    keep = target != ignore_index
    if weight is None:
        return keep.astype(dtype)
    return xp.take(weight, xp.where(keep, target, 0)) * keep


def _log_softmax(x: Any) -> Any:
    xp = namespace(x)
    shifted = x - xp.max(x, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Any:
    """Softmax cross-entropy of logits ``input`` (N, C, *d) against integer classes
    ``target`` (N, *d), as ``torch.nn.functional.cross_entropy`` without label smoothing:
    ``-w[t] * log_softmax(input)[t]``, reduced; "mean" divides by the total weight."""
    xp = namespace(input, target)
    logp = _log_softmax(input)
    safe = xp.where(target != ignore_index, target, 0)
    picked = xp.take_along_axis(logp, xp.expand_dims(safe, 1), axis=1)[:, 0]
    w = _class_weights(target, weight, ignore_index, input.dtype)
    loss = -(w * picked)
    if reduction == "mean":
        return xp.sum(loss) / xp.sum(w)
    if reduction == "sum":
        return xp.sum(loss)
    return loss


def cross_entropy_cotangent(
    g: Any,
    input: Any,
    target: Any,
    weight: Any,
    ignore_index: int,
    reduction: str,
) -> Any:
    """The cotangent of the logits: ``(softmax(input) - onehot(target)) * w[t] * g``, over
    the total weight for "mean" (the maximum shift contributes nothing)."""
    xp = namespace(g, input, target)
    w = _class_weights(target, weight, ignore_index, input.dtype)
    if reduction == "mean":
        w = w * (g / xp.sum(w))
    else:
        w = w * g
    p = xp.exp(_log_softmax(input))
    safe = xp.expand_dims(xp.where(target != ignore_index, target, 0), 1)
    onehot = xp.arange(input.shape[1]).reshape((1, -1) + (1,) * (input.ndim - 2))
    return (p - (onehot == safe)) * xp.expand_dims(w, 1)


def cross_entropy_weight_cotangent(
    g: Any,
    ans: Any,
    input: Any,
    target: Any,
    weight: Any,
    ignore_index: int,
    reduction: str,
) -> Any:
    """The cotangent of the class weights (None without them): each sample's
    ``-log_softmax(input)[t]`` (less the mean loss ``ans``, over the total weight, for
    "mean") times ``g``, summed into its class by one ``bincount``."""
    if weight is None:
        return None
    xp = namespace(g, input, target)
    keep = target != ignore_index
    safe = xp.where(keep, target, 0)
    logp = _log_softmax(input)
    per = -xp.take_along_axis(logp, xp.expand_dims(safe, 1), axis=1)[:, 0]
    if reduction == "mean":
        total = xp.sum(xp.take(weight, safe) * keep)
        per = (per - ans) / total
    share = (per * g * keep).reshape(-1)
    out = xp.bincount(safe.reshape(-1), weights=share, minlength=weight.shape[0])
    return out.astype(weight.dtype, copy=False)
