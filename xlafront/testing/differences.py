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
}
