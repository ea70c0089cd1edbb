"""StableHLO lowering of the linalg primitives.

On the CPU each primitive is a typed-FFI `stablehlo.custom_call` to one of jaxlib's LAPACK
kernels (registered by lowering/runtime.py), written as JAX 0.10 writes it: the attributes
in `mhlo.backend_config` (uplo/mode/side/... as ui8 characters), column-major
`operand_layouts`/`result_layouts` (minor-to-major: the two matrix axes first), the matrix
output aliasing the matrix operand, and `num_batch_dims` (the kernels loop over leading
batch axes themselves). Where a kernel reports failure (`info`), its outputs become NaN,
matrix by matrix, as in JAX.

On GPU platforms the Cholesky factorization and triangular solves lower to the native
`stablehlo.cholesky` / `stablehlo.triangular_solve` (XLA implements them with cuSOLVER and
cuBLAS), and the others to the cuSOLVER FFI targets of the GPU plugin. (Untested here:
no GPU on the development machine.)
"""
from __future__ import annotations

import numpy as np

from xlafront import dtypes
from xlafront import primitives_linalg as L
from xlafront.core import ShapedArray, register_internal_path
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.rules import lowering_rules

register_internal_path(__file__)

_t = tensor_type
_I32 = dtypes.int32


def _platform():
    from xlafront.lowering import runtime
    return runtime.backend().platform


def _prefix(dt):
    return {dtypes.float32: "s", dtypes.float64: "d", dtypes.complex64: "c", dtypes.complex128: "z"}[dt]


def _layout(aval, matrix):
    """minor_to_major of a LAPACK operand: column-major matrices, then the batch axes."""
    r = aval.ndim
    if matrix and r >= 2:
        order = [r - 2, r - 1] + list(range(r - 3, -1, -1))
    else:
        order = list(range(r - 1, -1, -1))
    if r == 0:
        return "dense<> : tensor<0xindex>"
    if r == 1:
        return "dense<0> : tensor<1xindex>"
    return f"dense<[{', '.join(map(str, order))}]> : tensor<{r}xindex>"


def _ffi(ctx, target, operands, in_avals, out_avals, *, config=None, aliases=(), batch=0):
    """A typed-FFI custom call; `aliases` are (output index, operand index) pairs; operands
    and results of rank >= 2 past the batch axes get matrix (column-major) layouts."""
    cfg = ", ".join(f"{k} = {str(v).lower()}" if isinstance(v, bool) else f"{k} = {v} : ui8"
                    for k, v in sorted((config or {}).items()))
    single = len(out_avals) == 1
    al = ", ".join(
        f"#stablehlo.output_operand_alias<output_tuple_indices = [{'' if single else o}], "
        f"operand_index = {i}, operand_tuple_indices = []>" for o, i in aliases)
    ol = ", ".join(_layout(a, a.ndim >= 2 + batch) for a in in_avals)
    rl = ", ".join(_layout(a, a.ndim >= 2 + batch) for a in out_avals)
    ins = ", ".join(_t(a) for a in in_avals)
    outs = _t(out_avals[0]) if single else "(" + ", ".join(_t(a) for a in out_avals) + ")"
    text = (f"stablehlo.custom_call @{target}({', '.join(operands)}) {{backend_config = \"\", "
            f"mhlo.backend_config = {{{cfg}}}, mhlo.frontend_attributes = {{num_batch_dims = \"{batch}\"}}, "
            f"operand_layouts = [{ol}], output_operand_aliases = [{al}], result_layouts = [{rl}]}} : "
            f"({ins}) -> {outs}")
    return ctx.emit(text, n=len(out_avals))


# ----------------------------------------------------------------------------- small emit helpers
def _bcast(ctx, x, a_in, shape, dims):
    a_out = a_in.update(shape=tuple(shape))
    return ctx.emit(f"stablehlo.broadcast_in_dim {x}, dims = [{', '.join(map(str, dims))}] : "
                    f"({_t(a_in)}) -> {_t(a_out)}")


def _cmp(ctx, direction, x, y, aval, ctype="SIGNED"):
    b = aval.update(dtype=dtypes.bool_)
    return ctx.emit(f"stablehlo.compare {direction}, {x}, {y}, {ctype} : ({_t(aval)}, {_t(aval)}) -> {_t(b)}")


def _select(ctx, pred, on_true, on_false, aval):
    b = aval.update(dtype=dtypes.bool_)
    return ctx.emit(f"stablehlo.select {pred}, {on_true}, {on_false} : {_t(b)}, {_t(aval)}")


def _info_ok(ctx, info, batch, direction="EQ"):
    ia = ShapedArray(batch, _I32)
    zero = ctx.const(0, _I32, batch)
    return _cmp(ctx, direction, info, zero, ia)


def _nan_unless(ctx, ok, x, aval, batch):
    """x where `ok` (one flag per batch element), NaN elsewhere."""
    okb = _bcast(ctx, ok, ShapedArray(batch, dtypes.bool_), aval.shape, range(len(batch)))
    nan = ctx.const(np.nan if not dtypes.is_complex(aval.dtype) else complex(np.nan, np.nan),
                    aval.dtype, aval.shape)
    return _select(ctx, okb, x, nan, aval)


def _tri_mask(ctx, aval, lower, k=0):
    """Boolean mask of aval's shape: the lower (row + k >= col) or upper (col >= row + k) part."""
    ia = aval.update(dtype=_I32)
    r = aval.ndim
    rows = ctx.emit(f"stablehlo.iota dim = {r - 2} : {_t(ia)}")
    cols = ctx.emit(f"stablehlo.iota dim = {r - 1} : {_t(ia)}")
    if k:
        kk = ctx.const(k, _I32, aval.shape)
        rows = ctx.emit(f"stablehlo.add {rows}, {kk} : {_t(ia)}")
    return _cmp(ctx, "GE", rows, cols, ia) if lower else _cmp(ctx, "GE", cols, rows, ia)


def _keep_triangle(ctx, x, aval, lower, k=0):
    mask = _tri_mask(ctx, aval, lower, k)
    zero = ctx.const(0, aval.dtype, aval.shape)
    return _select(ctx, mask, x, zero, aval)


def _slice(ctx, x, a_in, limits):
    start = [0] * a_in.ndim
    a_out = a_in.update(shape=tuple(limits))
    arr = lambda v: f"array<i64: {', '.join(map(str, v))}>"  # noqa: E731
    return ctx.emit(f'"stablehlo.slice"({x}) {{start_indices = {arr(start)}, limit_indices = {arr(limits)}, '
                    f'strides = {arr([1] * a_in.ndim)}}} : ({_t(a_in)}) -> {_t(a_out)}'), a_out


def _conj(ctx, x, aval):
    if not dtypes.is_complex(aval.dtype):
        return x
    ra = aval.update(dtype=L._real_dtype(aval.dtype))
    re = ctx.emit(f"stablehlo.real {x} : ({_t(aval)}) -> {_t(ra)}")
    im = ctx.emit(f"stablehlo.imag {x} : ({_t(aval)}) -> {_t(ra)}")
    nim = ctx.emit(f"stablehlo.negate {im} : {_t(ra)}")
    return ctx.emit(f"stablehlo.complex {re}, {nim} : {_t(aval)}")


# ----------------------------------------------------------------------------- cholesky
def _cholesky(ctx, a):
    aval = ctx.avals_in[0]
    batch = aval.shape[:-2]
    if _platform() == "cpu":
        info_a = ShapedArray(batch, _I32)
        l, info = _ffi(ctx, f"lapack_{_prefix(aval.dtype)}potrf_ffi", [a], [aval], [aval, info_a],
                       config={"uplo": ord("L")}, aliases=[(0, 0)], batch=len(batch))
        l = _nan_unless(ctx, _info_ok(ctx, info, batch), l, aval, batch)
    else:
        l = ctx.emit(f"stablehlo.cholesky {a}, lower = true : {_t(aval)}")
    return _keep_triangle(ctx, l, aval, lower=True)


lowering_rules[L.cholesky_p] = _cholesky


# ----------------------------------------------------------------------------- triangular_solve
def _triangular_solve(ctx, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    aa, ba = ctx.avals_in
    batch = aa.shape[:-2]
    cplx = dtypes.is_complex(aa.dtype)
    if conjugate_a and not transpose_a and cplx:
        a = _conj(ctx, a, aa)   # the kernels conjugate only together with a transpose
    trans = "N" if not transpose_a else ("C" if conjugate_a and cplx else "T")
    if _platform() == "cpu":
        return _ffi(ctx, f"lapack_{_prefix(aa.dtype)}trsm_ffi", [a, b], [aa, ba], [ba],
                    config={"side": ord("L" if left_side else "R"), "uplo": ord("L" if lower else "U"),
                            "trans_x": ord(trans), "diag": ord("U" if unit_diagonal else "N")},
                    aliases=[(0, 1)], batch=len(batch))
    tr = {"N": "NO_TRANSPOSE", "T": "TRANSPOSE", "C": "ADJOINT"}[trans]
    return ctx.emit(f'"stablehlo.triangular_solve"({a}, {b}) {{left_side = {str(left_side).lower()}, '
                    f'lower = {str(lower).lower()}, transpose_a = #stablehlo<transpose {tr}>, '
                    f'unit_diagonal = {str(unit_diagonal).lower()}}} : ({_t(aa)}, {_t(ba)}) -> {_t(ba)}')


lowering_rules[L.triangular_solve_p] = _triangular_solve


# ----------------------------------------------------------------------------- lu
def _pivots_to_permutation(ctx, piv, pa, m):
    """The row permutation (batch..., m) that applying the swaps `piv` (0-based, in order)
    makes of 0..m-1: a stablehlo.while over the pivots, one swap per step."""
    batch = pa.shape[:-1]
    k = pa.shape[-1]
    r = len(batch) + 1
    perm_a = ShapedArray(batch + (m,), _I32)
    s_a = ShapedArray((), _I32)
    perm0 = ctx.emit(f"stablehlo.iota dim = {r - 1} : {_t(perm_a)}")
    if k == 0:
        return perm0
    i0 = ctx.const(0, _I32)
    one_col = ShapedArray(batch + (1,), _I32)

    def cond(args):
        i, _, _ = args
        kk = ctx.const(k, _I32)
        return [_cmp(ctx, "LT", i, kk, s_a)]

    def body(args):
        i, pv, perm = args
        zeros = [ctx.const(0, _I32) for _ in batch]
        sizes = f"array<i64: {', '.join(map(str, batch + (1,)))}>"
        p_i = ctx.emit(f'"stablehlo.dynamic_slice"({", ".join([pv, *zeros, i])}) {{slice_sizes = {sizes}}} : '
                       f'({", ".join([_t(pa)] + [_t(s_a)] * r)}) -> {_t(one_col)}')
        q_i = ctx.emit(f'"stablehlo.dynamic_slice"({", ".join([perm, *zeros, i])}) {{slice_sizes = {sizes}}} : '
                       f'({", ".join([_t(perm_a)] + [_t(s_a)] * r)}) -> {_t(one_col)}')
        pb = _bcast(ctx, p_i, one_col, perm_a.shape, range(r))
        qb = _bcast(ctx, q_i, one_col, perm_a.shape, range(r))
        ib = _bcast(ctx, i, s_a, perm_a.shape, ())
        io = ctx.emit(f"stablehlo.iota dim = {r - 1} : {_t(perm_a)}")
        at_i = _cmp(ctx, "EQ", io, ib, perm_a)
        at_p = _cmp(ctx, "EQ", io, pb, perm_a)
        zero = ctx.const(0, _I32, perm_a.shape)
        picked = _select(ctx, at_p, perm, zero, perm_a)
        init = ctx.const(0, _I32)
        red_a = ShapedArray(batch, _I32)
        perm_p = ctx.emit(f"stablehlo.reduce({picked} init: {init}) applies stablehlo.add across dimensions = "
                          f"[{r - 1}] : ({_t(perm_a)}, {_t(s_a)}) -> {_t(red_a)}")
        perm_pb = _bcast(ctx, perm_p, red_a, perm_a.shape, range(r - 1))
        swapped = _select(ctx, at_p, qb, perm, perm_a)
        new = _select(ctx, at_i, perm_pb, swapped, perm_a)
        one = ctx.const(1, _I32)
        i1 = ctx.emit(f"stablehlo.add {i}, {one} : {_t(s_a)}")
        return [i1, pv, new]

    avals = [s_a, pa, perm_a]
    cond_r = ctx.region(avals, cond, [ShapedArray((), dtypes.bool_)])
    body_r = ctx.region(avals, body, avals)
    types = ", ".join(_t(a) for a in avals)
    outs = ctx.emit(f'"stablehlo.while"({i0}, {piv}, {perm0}) ({cond_r}, {body_r}) : ({types}) -> ({types})', n=3)
    return outs[2]


def _lu(ctx, a):
    aval = ctx.avals_in[0]
    lu_a, piv_a, perm_a = ctx.avals_out
    batch = aval.shape[:-2]
    m = aval.shape[-2]
    info_a = ShapedArray(batch, _I32)
    target = f"lapack_{_prefix(aval.dtype)}getrf_ffi" if _platform() == "cpu" else "cusolver_getrf_ffi"
    lu, piv, info = _ffi(ctx, target, [a], [aval], [lu_a, piv_a, info_a], config={}, aliases=[(0, 0)],
                         batch=len(batch))
    one = ctx.const(1, _I32, piv_a.shape)
    piv = ctx.emit(f"stablehlo.subtract {piv}, {one} : {_t(piv_a)}")
    lu = _nan_unless(ctx, _info_ok(ctx, info, batch, "GE"), lu, lu_a, batch)
    perm = _pivots_to_permutation(ctx, piv, piv_a, m)
    return [lu, piv, perm]


lowering_rules[L.lu_p] = _lu


# ----------------------------------------------------------------------------- qr
def _qr(ctx, a, *, full_matrices):
    aval = ctx.avals_in[0]
    q_a, r_a = ctx.avals_out
    batch = aval.shape[:-2]
    m, n = aval.shape[-2:]
    k = min(m, n)
    nb = len(batch)
    cpu = _platform() == "cpu"
    tau_a = ShapedArray(batch + (k,), aval.dtype)
    p = _prefix(aval.dtype)
    geqrf = f"lapack_{p}geqrf_ffi" if cpu else "cusolver_geqrf_ffi"
    orgqr = (f"lapack_{p}{'un' if dtypes.is_complex(aval.dtype) else 'or'}gqr_ffi" if cpu
             else "cusolver_orgqr_ffi")
    h, tau = _ffi(ctx, geqrf, [a], [aval], [aval, tau_a], config={}, aliases=[(0, 0)], batch=nb)
    if m < n:
        q_in, q_in_a = _slice(ctx, h, aval, batch + (m, m))
    elif full_matrices and m > n:
        zero = ctx.const(0, aval.dtype)
        q_in_a = aval.update(shape=batch + (m, m))
        pads = lambda hi: ", ".join(map(str, hi))  # noqa: E731
        q_in = ctx.emit(f"stablehlo.pad {h}, {zero}, low = [{pads([0] * aval.ndim)}], "
                        f"high = [{pads([0] * (aval.ndim - 1) + [m - n])}], interior = [{pads([0] * aval.ndim)}] : "
                        f"({_t(aval)}, {_t(ShapedArray((), aval.dtype))}) -> {_t(q_in_a)}")
    else:
        q_in, q_in_a = h, aval
    q = _ffi(ctx, orgqr, [q_in, tau], [q_in_a, tau_a], [q_in_a], config={}, aliases=[(0, 0)], batch=nb)
    if r_a.shape != aval.shape:
        h, _ = _slice(ctx, h, aval, r_a.shape)
    r = _keep_triangle(ctx, h, r_a, lower=False)
    return [q, r]


lowering_rules[L.qr_p] = _qr


# ----------------------------------------------------------------------------- eigh
def _eigh(ctx, a, *, lower=True, sort_eigenvalues=True):
    aval = ctx.avals_in[0]
    v_a, w_a = ctx.avals_out
    batch = aval.shape[:-2]
    info_a = ShapedArray(batch, _I32)
    if _platform() == "cpu":
        kind = "he" if dtypes.is_complex(aval.dtype) else "sy"
        v, w, info = _ffi(ctx, f"lapack_{_prefix(aval.dtype)}{kind}evd_ffi", [a], [aval], [v_a, w_a, info_a],
                          config={"mode": ord("V"), "uplo": ord("L" if lower else "U")}, aliases=[(0, 0)],
                          batch=len(batch))
    else:
        v, w, info = _ffi(ctx, "cusolver_syevd_ffi", [a], [aval], [v_a, w_a, info_a],
                          config={"lower": bool(lower), "algorithm": 0}, aliases=[(0, 0)], batch=len(batch))
    ok = _info_ok(ctx, info, batch)
    return [_nan_unless(ctx, ok, v, v_a, batch), _nan_unless(ctx, ok, w, w_a, batch)]


lowering_rules[L.eigh_p] = _eigh


# ----------------------------------------------------------------------------- svd
def _svd(ctx, a, *, full_matrices, compute_uv):
    aval = ctx.avals_in[0]
    batch = aval.shape[:-2]
    m, n = aval.shape[-2:]
    k = min(m, n)
    s_a = ctx.avals_out[0]
    info_a = ShapedArray(batch, _I32)
    if _platform() != "cpu":
        return _svd_gpu(ctx, a, aval, full_matrices, compute_uv)
    if compute_uv and not full_matrices:
        u_a, vt_a = aval.update(shape=batch + (m, k)), aval.update(shape=batch + (k, n))
        mode = "S"
    else:
        u_a, vt_a = aval.update(shape=batch + (m, m)), aval.update(shape=batch + (n, n))
        mode = "A" if compute_uv else "N"
    _, s, u, vt, info = _ffi(ctx, f"lapack_{_prefix(aval.dtype)}gesdd_ffi", [a], [aval],
                             [aval, s_a, u_a, vt_a, info_a], config={"mode": ord(mode)}, aliases=[(0, 0)],
                             batch=len(batch))
    ok = _info_ok(ctx, info, batch)
    s = _nan_unless(ctx, ok, s, s_a, batch)
    if not compute_uv:
        return [s]
    return [s, _nan_unless(ctx, ok, u, u_a, batch), _nan_unless(ctx, ok, vt, vt_a, batch)]


def _adjoint(ctx, x, aval):
    r = aval.ndim
    perm = list(range(r - 2)) + [r - 1, r - 2]
    out = aval.update(shape=tuple(aval.shape[i] for i in perm))
    t = ctx.emit(f"stablehlo.transpose {x}, dims = [{', '.join(map(str, perm))}] : ({_t(aval)}) -> {_t(out)}")
    return _conj(ctx, t, out), out


def _svd_gpu(ctx, a, aval, full_matrices, compute_uv):
    """cuSOLVER gesvd (which wants m >= n: a wide matrix is decomposed as its adjoint)."""
    batch = aval.shape[:-2]
    m, n = aval.shape[-2:]
    if m < n:
        at, at_a = _adjoint(ctx, a, aval)
        outs = _svd_gpu(ctx, at, at_a, full_matrices, compute_uv)
        if not compute_uv:
            return outs
        s, u2, vt2 = outs
        kk = n if full_matrices else m
        u2_a = aval.update(shape=batch + (n, kk))
        vt2_a = aval.update(shape=batch + (m, m))
        u, _ = _adjoint(ctx, vt2, vt2_a)
        vt, _ = _adjoint(ctx, u2, u2_a)
        return [s, u, vt]
    k = n
    s_a = ShapedArray(batch + (k,), L._real_dtype(aval.dtype))
    u_a = aval.update(shape=batch + (m, m if full_matrices else k))
    vt_a = aval.update(shape=batch + (n, n))
    info_a = ShapedArray(batch, _I32)
    _, s, u, vt, info = _ffi(ctx, "cusolver_gesvd_ffi", [a], [aval], [aval, s_a, u_a, vt_a, info_a],
                             config={"full_matrices": bool(full_matrices), "compute_uv": bool(compute_uv),
                                     "transposed": False}, aliases=[(0, 0)], batch=len(batch))
    ok = _info_ok(ctx, info, batch)
    s = _nan_unless(ctx, ok, s, s_a, batch)
    if not compute_uv:
        return [s]
    return [s, _nan_unless(ctx, ok, u, u_a, batch), _nan_unless(ctx, ok, vt, vt_a, batch)]


lowering_rules[L.svd_p] = _svd
