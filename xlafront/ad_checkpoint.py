"""`jax.ad_checkpoint`: `checkpoint` (= `jax.checkpoint`), `checkpoint_name`,
`checkpoint_policies` and `print_saved_residuals`.

- `checkpoint_name(x, name)` tags values for the name-based policies
  (`save_only_these_names`, ...). xlafront's `checkpoint` saves nothing inside a
  checkpointed function whatever the policy (every policy acts as `nothing_saveable`,
  see `xlafront.checkpoint_policies`), so a name changes nothing: it returns `x`.
- `print_saved_residuals(f, *args)` prints what reverse-mode differentiation of `f` at
  `args` keeps from the forward pass for the backward pass, one line per residual, in
  JAX's format: `f32[5,4] from the argument W1`, `f32[5] output of sin from
  file.py:6:9 (g)`. The residuals are xlafront's own (its linearization chooses them), so
  the list can differ from JAX's for the same function.
"""
from __future__ import annotations

import inspect

from xlafront import _missing, core, tree_util
from xlafront.api_autodiff import checkpoint, checkpoint_policies, remat  # noqa: F401

__all__ = ["checkpoint", "checkpoint_name", "checkpoint_policies", "print_saved_residuals", "remat",
           "saved_residuals"]


def checkpoint_name(x, name: str):
    """`x` tagged with `name` for the name-based checkpoint policies (a no-op here: see the
    module docstring)."""
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name: name must be a string, got {type(name)}")
    return x


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
    producer = {id(v): e for e in g.eqns for v in e.outvars}
    arg_of = {id(v): i for i, v in enumerate(g.invars)}
    out = []
    # as JAX lists them: the arguments first (in argument order), then the rest in order
    order = sorted(range(len(g.outvars)), key=lambda k: (0, arg_of[id(g.outvars[k])]) if id(g.outvars[k]) in arg_of
                   else (1, k))
    for v in (g.outvars[k] for k in order):
        aval = v.aval
        if isinstance(v, core.Literal) or id(v) in {id(c) for c in g.constvars}:
            desc = "from a constant"
        elif id(v) in arg_of:
            desc = f"from the argument {names[arg_of[id(v)]]}"
        elif id(v) in producer:
            e = producer[id(v)]
            si = e.source
            where = f" from {si.file}:{si.line}:{si.col} ({si.function})" if si is not None else ""
            desc = f"output of {e.prim.name}{where}"
        else:
            desc = "from a constant"
        out.append((aval, desc))
    return out


def print_saved_residuals(f, *args, **kwargs):
    """Print the residuals reverse-mode differentiation of `f` at `args` saves."""
    for aval, desc in saved_residuals(f, *args, **kwargs):
        print(f"{aval.str_short()} {desc}")


__getattr__ = _missing.module_getattr(__name__)
