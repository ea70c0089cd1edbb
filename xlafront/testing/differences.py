"""Known, deliberate differences between xlafront and JAX found by the differential engine.

Keys are (table entry name, check) of `xlafront.testing.special_points.TABLE`
(check is one of value, dtype, weak_type, grad, jvp, vmap); the value is the reason.
`tests/test_special_points.py` asserts that every case listed here STILL differs (a stale
entry fails) and that every other case matches JAX. Each entry has a bullet with the same
reason in docs/differences.md.
"""

DIFFERENCES = {
    # JAX's det/slogdet derivative indexes the (empty) LU pivots and raises IndexError on a
    # 0x0 matrix; xlafront returns the derivative of the constant det = 1 (an empty gradient).
    ("numpy.linalg.det", "grad"): "0x0 matrix: JAX raises IndexError in the derivative, xlafront returns the empty gradient",
    ("numpy.linalg.det", "jvp"): "0x0 matrix: JAX raises IndexError in the derivative, xlafront returns tangent 0",
    # d/dx logaddexp(x, +inf) = exp(x - inf) / (...) = 0; JAX 0.10.2 returns exp(x) (its rule
    # subtracts the max only where it is finite)
    ("numpy.logaddexp", "grad"): "d/dx logaddexp(x, +inf) is 0; JAX gives exp(x)",
    ("numpy.logaddexp", "jvp"): "d/dx logaddexp(x, +inf) is 0; JAX gives exp(x)",
    ("numpy.logaddexp2", "grad"): "d/dx logaddexp2(x, +inf) is 0; JAX gives 2**x",
    ("numpy.logaddexp2", "jvp"): "d/dx logaddexp2(x, +inf) is 0; JAX gives 2**x",
    ("lax.cumlogsumexp", "grad"): "running logsumexp past a +inf: the derivative in a finite x is 0; JAX gives exp(x)-weighted terms",
    ("lax.cumlogsumexp", "jvp"): "running logsumexp past a +inf: the derivative in a finite x is 0; JAX gives exp(x)-weighted terms",
    # ldexp(x, 3) = 8 x, so its derivative is 8 everywhere; JAX differentiates through its
    # bit manipulation and gives 1 at +-0 and +-inf and NaN at +-max float
    ("numpy.ldexp", "grad"): "d/dx ldexp(x, n) is 2**n; JAX gives 1 at +-0, +-inf and NaN near overflow",
    ("numpy.ldexp", "jvp"): "d/dx ldexp(x, n) is 2**n; JAX gives 1 at +-0, +-inf and NaN near overflow",
    # P(0, x) = 1 for x > 0 (the limit a -> 0+, scipy's gammainc(0, x)); JAX gives NaN. And
    # P, Q at a = x = 1e10 are ~0.5 (uniform asymptotic expansion); JAX gives 0 for both
    ("lax.igamma", "value"): "igamma(0, x > 0) is 1 (scipy), JAX NaN; igamma(1e10, 1e10) ~ 0.5, JAX 0",
    ("lax.igamma", "jvp"): "igamma(0, x > 0) is 1 (scipy), JAX NaN; igamma(1e10, 1e10) ~ 0.5, JAX 0",
    ("lax.igamma", "vmap"): "igamma(0, x > 0) is 1 (scipy), JAX NaN; igamma(1e10, 1e10) ~ 0.5, JAX 0",
    ("lax.igammac", "value"): "igammac(1e10, 1e10) ~ 0.5 (scipy 0.4999987), JAX 0",
    ("lax.igammac", "jvp"): "igammac(1e10, 1e10) ~ 0.5 (scipy 0.4999987), JAX 0",
    ("lax.igammac", "vmap"): "igammac(1e10, 1e10) ~ 0.5 (scipy 0.4999987), JAX 0",
    # scipy.special.gammainc/gammaincc are lax.igamma/igammac of the promoted operands: the same points
    ("scipy.special.gammainc", "value"): "gammainc(0, x > 0) is 1 (scipy), JAX NaN; gammainc(1e10, 1e10) ~ 0.5, JAX 0",
    ("scipy.special.gammainc", "jvp"): "gammainc(0, x > 0) is 1 (scipy), JAX NaN; gammainc(1e10, 1e10) ~ 0.5, JAX 0",
    ("scipy.special.gammainc", "vmap"): "gammainc(0, x > 0) is 1 (scipy), JAX NaN; gammainc(1e10, 1e10) ~ 0.5, JAX 0",
    ("scipy.special.gammaincc", "value"): "gammaincc(1e10, 1e10) ~ 0.5 (scipy 0.4999987), JAX 0",
    ("scipy.special.gammaincc", "jvp"): "gammaincc(1e10, 1e10) ~ 0.5 (scipy 0.4999987), JAX 0",
    ("scipy.special.gammaincc", "vmap"): "gammaincc(1e10, 1e10) ~ 0.5 (scipy 0.4999987), JAX 0",
    # x.at[idx].mul(u) with repeated indices: y_i = x_i prod u_j, whose derivative xlafront
    # gives (checked against finite differences, zeros in u included); JAX raises
    ("at.mul[dup]", "grad"): "scatter-multiply with duplicate indices: xlafront differentiates it (x_i prod_{k != j} u_k), JAX raises NotImplementedError",
    ("at.mul[dup]", "jvp"): "scatter-multiply with duplicate indices: xlafront differentiates it (x_i prod_{k != j} u_k), JAX raises NotImplementedError",
    # I0'(x) = I1(x), 0 at x = 0; JAX 0.10.2 differentiates exp(|x|) i0e(x) with d|x|/dx = 1
    # at +-0, so its i0'(0) is 1 (and NaN-free only below overflow; xlafront's I1 is inf there)
    ("scipy.special.i0", "grad"): "i0'(+-0) is I1(0) = 0; JAX gives 1",
    # E_n(0) = 1/(n - 1) for n >= 2 (scipy; JAX's own value just above 0); JAX 0.10.2 gives 1/n at 0
    ("scipy.special.expn[2]", "value"): "expn(2, 0) is 1 = 1/(n-1) (scipy); JAX 0.5",
    ("scipy.special.expn[2]", "jvp"): "expn(2, 0) is 1 = 1/(n-1) (scipy); JAX 0.5",
    ("scipy.special.expn[2]", "vmap"): "expn(2, 0) is 1 = 1/(n-1) (scipy); JAX 0.5",
    ("scipy.special.i0", "jvp"): "i0'(+-0) is I1(0) = 0; JAX gives 1",
    # spence(x) for x near the dtype's max is -pi^2/6 - log(x)^2/2 + ... (scipy: -3937.516 at
    # 3.4e38); JAX 0.10.2 gives NaN. Its derivative is log(x) / (1 - x); JAX's is NaN on
    # (1, 2] and off by 1 at tiny x
    ("scipy.special.spence", "value"): "spence(3.4e38) is -3937.516 (scipy); JAX NaN",
    ("scipy.special.spence", "jvp"): "spence(3.4e38) is -3937.516 (scipy); JAX NaN",
    ("scipy.special.spence", "vmap"): "spence(3.4e38) is -3937.516 (scipy); JAX NaN",
    ("scipy.special.spence", "grad"): "spence'(x) = log(x)/(1-x): JAX NaN on (1, 2] and at 3.4e38, -88.34 (not -87.34) at 1.2e-38",
    # rel_entr(x, x) = x log(x / x) = 0 exactly (xlafront takes log(p / q) where the ratio is
    # finite and nonzero); JAX 0.10.2 computes x log x - x log y, which cancels (4815.8 at
    # x = y = 1e10 in a float32 array, where XLA's vectorized log differs between lanes)
    ("scipy.special.rel_entr", "value"): "rel_entr(1e10, 1e10) is 0; JAX 4815.8 (x log x - x log y cancels)",
    ("scipy.special.kl_div", "value"): "kl_div(1e10, 1e10) is 0; JAX 5120 (x log x - x log y cancels)",
    ("scipy.special.rel_entr", "jvp"): "rel_entr(1e10, 1e10) is 0; JAX 4815.8 (x log x - x log y cancels)",
    ("scipy.special.rel_entr", "vmap"): "rel_entr(1e10, 1e10) is 0; JAX 4815.8 (x log x - x log y cancels)",
    ("scipy.special.kl_div", "jvp"): "kl_div(1e10, 1e10) is 0; JAX 4815.8 (x log x - x log y cancels)",
    ("scipy.special.kl_div", "vmap"): "kl_div(1e10, 1e10) is 0; JAX 4815.8 (x log x - x log y cancels)",
}
