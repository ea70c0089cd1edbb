"""jvp and batching rules of the special-function primitives (erfc, polygamma, zeta)."""
from __future__ import annotations

import math
from fractions import Fraction

from xlafront import primitives as P
from xlafront import primitives_special as S
from xlafront.core import register_internal_path
from xlafront.transforms import jvp as J
from xlafront.transforms import batching as B

register_internal_path(__file__)

# d erfc(x) = -2/sqrt(pi) exp(-x^2) dx
J._unary(S.erfc_p, lambda t, x, y: P.mul(t, P.mul(J._c(x, -2 / math.sqrt(math.pi)),
                                                  P.exp(P.neg(P.square(x))))))


def _polygamma_dm(t, m, x, out):
    raise ValueError("polygamma gradient with respect to m is not supported")


# d digamma(x) = polygamma(1, x) dx (trigamma; as JAX's rule)
J._unary(P.digamma_p, lambda t, x, y: P.mul(t, S.polygamma(J._c(x, 1), x)))

# d/dx polygamma(m, x) = polygamma(m + 1, x)
J._binary(S.polygamma_p, _polygamma_dm,
          lambda t, m, x, out: P.mul(t, S.polygamma(P.add(m, J._c(m, 1)), x)))


def _bernoulli_even(kmax):
    """B_2, B_4, ..., B_2kmax as exact fractions (the Akiyama-Tanigawa recurrence)."""
    a = [Fraction(0)] * (2 * kmax + 1)
    out = []
    for m in range(2 * kmax + 1):
        a[m] = Fraction(1, m + 1)
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        if m >= 2 and m % 2 == 0:
            out.append(a[0])
    return out


_ZETA_N = 10   # terms summed directly before the Euler-Maclaurin tail
_ZETA_K = 12   # Euler-Maclaurin correction terms
# B_2k / (2k)!
_ZETA_EM = [float(b / math.factorial(2 * k)) for k, b in enumerate(_bernoulli_even(_ZETA_K), 1)]


def _zeta_dx(s, q):
    """d/ds zeta(s, q), from the Euler-Maclaurin form of zeta differentiated term by term:
    zeta(s, q) = sum_{n<N} (n+q)^-s + a^(1-s)/(s-1) + a^-s/2
                 + sum_k B_2k/(2k)! s(s+1)...(s+2k-2) a^(-s-2k+1),   a = N + q,
    so that d/ds = -sum_{n<N} log(n+q) (n+q)^-s - a^(1-s) (log(a) (s-1) + 1) / (s-1)^2
                   - log(a) a^-s / 2 + sum_k B_2k/(2k)! (P_k' - log(a) P_k) a^(-s-2k+1)
    (P_k the rising product and P_k' its derivative). It is the derivative of the analytic
    continuation, also for s < 1; nan where q <= 0 or an operand is not finite."""
    c = lambda v: J._c(s, v)  # noqa: E731
    neg_s = P.neg(s)
    total = None
    for n in range(_ZETA_N):
        b = P.add(q, c(n)) if n else q
        term = P.mul(P.log(b), P.pow(b, neg_s))
        total = term if total is None else P.add(total, term)
    total = P.neg(total)
    a = P.add(q, c(_ZETA_N))
    L = P.log(a)
    apow = P.pow(a, neg_s)
    sm1 = P.sub(s, c(1))
    total = P.sub(total, P.div(P.mul(P.mul(a, apow), P.add(P.mul(L, sm1), c(1))), P.square(sm1)))
    total = P.sub(total, P.mul(c(0.5), P.mul(L, apow)))
    inv_a = P.div(c(1), a)
    inv_a2 = P.square(inv_a)
    # T = P_k a^(-s-2k+1) and D = P_k' a^(-s-2k+1), P_k = s (s+1) ... (s+2k-2), kept as
    # products so that neither P_k (overflow) nor the power (underflow) is formed alone
    T = P.mul(s, P.mul(apow, inv_a))
    D = P.mul(apow, inv_a)
    for k in range(1, _ZETA_K + 1):
        if k > 1:
            for j in (2 * k - 3, 2 * k - 2):
                f = P.add(s, c(j))
                T, D = P.mul(T, f), P.add(P.mul(D, f), T)
            T, D = P.mul(T, inv_a2), P.mul(D, inv_a2)
        total = P.add(total, P.mul(c(_ZETA_EM[k - 1]), P.sub(D, P.mul(L, T))))
    bad = P.bitwise_or(P.le(q, c(0)), P.bitwise_not(P.bitwise_and(P.is_finite(s), P.is_finite(q))))
    return P.select(bad, J._full(total, math.nan), total)


def _zeta_ds(t, s, q, out):
    return P.mul(t, _zeta_dx(s, q))


# d/dq zeta(s, q) = -s zeta(s + 1, q)
J._binary(S.zeta_p, _zeta_ds,
          lambda t, s, q, out: P.mul(t, P.neg(P.mul(s, S.zeta(P.add(s, J._c(s, 1)), q)))))

B.batch_rules[S.erfc_p] = B._same_dim_rule(S.erfc_p)
for _p in S.special_binary:
    B.batch_rules[_p] = B._elementwise_rule(_p)
