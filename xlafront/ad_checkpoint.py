"""`jax.ad_checkpoint`: `checkpoint` (= `jax.checkpoint`), `checkpoint_name`,
`checkpoint_policies` and `print_saved_residuals`.

- `checkpoint_name(x, name)` tags values for the name-based policies
  (`save_only_these_names`, ...): under a trace it binds the identity primitive `name`
  (param `name`), whose equation the policy of an enclosing `checkpoint` sees.
- `checkpoint(f, policy=...)` saves, for the backward pass, the outputs of the equations of
  `f` (differentiated) that the policy allows, and recomputes the others from those and
  from `f`'s inputs (transforms/partial_eval.py, `partial_eval_graph_saving`).
- `print_saved_residuals(f, *args)` prints what reverse-mode differentiation of `f` at
  `args` keeps from the forward pass for the backward pass, one line per residual, in
  JAX's format: `f32[5,4] from the argument W1`, `f32[5] output of sin from
  file.py:6:9 (g)`, `f32[5] named 'h1' from file.py:7:8 (g)`. The residuals are xlafront's
  own (its linearization chooses them), so outside a checkpoint the list can differ from
  JAX's for the same function (a jvp rule may keep another intermediate).
"""
from __future__ import annotations

import inspect

from xlafront import _missing, core, tree_util
from xlafront import primitives as P
from xlafront.api_autodiff import checkpoint, checkpoint_name, checkpoint_policies, remat  # noqa: F401
from xlafront.api_autodiff import name_p, remat_p

__all__ = ["checkpoint", "checkpoint_name", "checkpoint_policies", "print_saved_residuals", "remat",
           "saved_residuals"]


def _arg_names(f, args, kwargs):
    """A name per leaf of (args, kwargs): the parameter's name, with the leaf's path in it."""
    try:
        params = list(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        params = []
    names = []
    for i, a in enumerate(args):
        base = params[i] if i < len(params) and not params[i].startswith("*") else f"args[{i}]"
        for path, _ in tree_util.tree_flatten_with_path(a)[0]:
            names.append(base + tree_util.keystr(path))
    for k, v in kwargs.items():
        for path, _ in tree_util.tree_flatten_with_path(v)[0]:
            names.append(k + tree_util.keystr(path))
    return names


def saved_residuals(f, *args, **kwargs):
    """[(aval, description)] of the residuals `print_saved_residuals` prints."""
    from xlafront.transforms import partial_eval as PE
    leaves, in_tree = tree_util.tree_flatten((args, kwargs))
    names = _arg_names(f, args, kwargs)

    def flat_f(*xs):
        a, kw = in_tree.unflatten(xs)
        return tree_util.tree_leaves(f(*a, **kw))

    def residuals(*xs):
        _, lin = PE.linearize_flat(flat_f, list(xs))
        return list(lin.closed.consts)

    closed = core.trace_to_graph(residuals, [core.get_aval(x) for x in leaves])
    g = closed.graph
    arg_of = {id(v): i for i, v in enumerate(g.invars)}
    consts = {id(c) for c in g.constvars}
    rows = []   # (sort key, aval, description)
    seen_args = set()
    for k, v in enumerate(g.outvars):
        if isinstance(v, core.Literal) or id(v) in consts:
            desc, arg = "from a constant", None
        elif id(v) in arg_of:
            desc, arg = f"from the argument {names[arg_of[id(v)]]}", arg_of[id(v)]
        else:
            desc, arg = _made_by(v, g, names)
        if arg is not None:
            if arg in seen_args:   # the same argument kept twice (inside and outside a checkpoint)
                continue
            seen_args.add(arg)
        # as JAX lists them: the arguments first (in argument order), then the rest in order
        rows.append(((0, arg) if arg is not None else (1, k), v.aval, desc))
    rows.sort(key=lambda r: r[0])
    return [(aval, desc) for _, aval, desc in rows]


def _site(e):
    """JAX's summary of a source location: file:line:column, the column counted from 0
    (SourceInfo's, for the StableHLO locations, from 1)."""
    si = e.source
    return f" from {si.file}:{si.line}:{si.col - 1} ({si.function})" if si is not None else ""


def _made_by(v, g, names):
    """(description, argument index or None) of residual `v` of the top graph `g`: followed
    into checkpointed and jitted calls (a checkpoint's residuals are outputs of the equations
    inside; a value a call passes through is followed back outside)."""
    outer = None   # (call equation, the graph holding it, its own outer) while inside calls
    while True:
        if isinstance(v, core.Literal) or any(v is c for c in g.constvars):
            return "from a constant", None
        pos = next((i for i, x in enumerate(g.invars) if x is v), None)
        if pos is not None:
            if outer is None:
                return f"from the argument {names[pos]}", pos
            e, g, outer = outer
            v = e.invars[pos]
            continue
        e = next((q for q in g.eqns if any(o is v for o in q.outvars)), None)
        if e is None:
            return "from a constant", None
        if e.prim is remat_p or e.prim is P.jit_p:
            inner = e.params["graph"]
            inner = inner.graph if isinstance(inner, core.ClosedGraph) else inner
            iv = inner.outvars[next(i for i, o in enumerate(e.outvars) if o is v)]
            passed = isinstance(iv, core.Literal) or any(iv is x for x in inner.invars)
            if e.prim is P.jit_p and not passed:   # made inside a jitted function: as JAX names it
                return f"output of jitted function {_fun_name(e.params['name'])!r}{_site(e)}", None
            outer, g, v = (e, g, outer), inner, iv
            continue
        if e.prim is name_p:
            return f"named {e.params['name']!r}{_site(e)}", None
        return f"output of {e.prim.name}{_site(e)}", None


def _fun_name(name):
    """The user's function name in a jit equation's name (`jvp(f)` -> `f`)."""
    name = str(name)
    while name.startswith("jvp(") and name.endswith(")"):
        name = name[4:-1]
    return name


def print_saved_residuals(f, *args, **kwargs):
    """Print the residuals reverse-mode differentiation of `f` at `args` saves."""
    for aval, desc in saved_residuals(f, *args, **kwargs):
        print(f"{aval.str_short()} {desc}")


__getattr__ = _missing.module_getattr(__name__)
