"""jvp and batching rules of the special-function primitives (erfc, polygamma, zeta)."""
from __future__ import annotations

import math

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


def _zeta_ds(t, s, q, out):
    raise ValueError("zeta gradient with respect to its first argument (x) is not supported")


# d/dq zeta(s, q) = -s zeta(s + 1, q)
J._binary(S.zeta_p, _zeta_ds,
          lambda t, s, q, out: P.mul(t, P.neg(P.mul(s, S.zeta(P.add(s, J._c(s, 1)), q)))))

B.batch_rules[S.erfc_p] = B._same_dim_rule(S.erfc_p)
for _p in S.special_binary:
    B.batch_rules[_p] = B._elementwise_rule(_p)
