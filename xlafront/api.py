"""Public transformations: jit, make_jaxpr, device_put/get, ... (autodiff and vmap
live in api_autodiff.py / api_batching.py and are re-exported by xlafront)."""
from __future__ import annotations

import contextlib
import functools
import inspect
import operator
import threading
import types
import weakref
from typing import Callable

import numpy as np

from xlafront import core, dtypes, tree_util
from xlafront.array import ArrayImpl, canonical_aval, make_array
from xlafront.config import config, local as _local
from xlafront.core import ClosedGraph, Graph, ShapedArray, Tracer
from xlafront import dispatch
from xlafront import _debug_nans
from xlafront import primitives as P
from xlafront.lowering import runtime
from xlafront.lowering.emitter import lower_graph
from xlafront import _sharded_array, _sharded_jit
from xlafront import _shard_map

# The jit hot path in C (xlafront/_cfast.c, imported by dispatch.py); without it, or with
# XLAFRONT_NO_CEXT=1, the same path runs in Python (`_PyCall`).
_cfast = dispatch._cfast

_flatten = tree_util.registry.flatten
_aval_of_type = core.aval_of_type


def _leaf_aval(x):
    t = type(x)
    if t is ArrayImpl:
        return x.aval
    f = _aval_of_type.get(t)
    if f is not None:
        return f(x)
    if isinstance(x, Tracer):
        return x.aval
    try:
        return core.get_aval(x)
    except TypeError:
        raise TypeError(f"Argument {x!r} of type {type(x).__name__} is not a valid xlafront type "
                        f"(arrays, numpy arrays, Python scalars and pytrees of them are)") from None


def _normalize_argnums(fun, static_argnums, static_argnames):
    if static_argnums is None:
        static_argnums = ()
    elif isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    if static_argnames is None:
        static_argnames = ()
    elif isinstance(static_argnames, str):
        static_argnames = (static_argnames,)
    static_argnums = tuple(int(i) for i in static_argnums)
    static_argnames = tuple(static_argnames)
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):
        return static_argnums, static_argnames
    params = list(sig.parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    kinds = {p.kind for p in params}
    # as JAX: indices and names the function cannot take are rejected when jit is applied
    if inspect.Parameter.VAR_POSITIONAL not in kinds:
        bad = [i for i in static_argnums if not -len(positional) <= i < len(positional)]
        if bad:
            raise ValueError(f"Jitted function has static_argnums={static_argnums}, but only accepts "
                             f"{len(positional)} positional arguments.")
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        takes = {p.name for p in params if p.kind != p.POSITIONAL_ONLY}
        bad = set(static_argnames) - takes
        if bad:
            raise ValueError(f"Jitted function has invalid argnames {bad} in static_argnames. "
                             f"Function does not take these args.")
    # as JAX: static_argnums and static_argnames each imply the other where a name/position exists
    names = set(static_argnames)
    for i in static_argnums:
        if -len(positional) <= i < len(positional):
            names.add(positional[i])
    nums = set(static_argnums)
    for n in static_argnames:
        if n in positional:
            nums.add(positional.index(n))
    return tuple(sorted(nums)), tuple(sorted(names))


class _Entry:
    """A compiled signature: `run(bufs)` -> output Arrays, and how to rebuild the output tree."""
    __slots__ = ("program", "run", "out_tree", "single", "execute", "handlers", "out_aval", "raw",
                 "out_avals")

    def __init__(self, program, out_tree, run=None):
        self.program, self.out_tree = program, out_tree
        self.single = out_tree.num_nodes == 1 and out_tree.num_leaves == 1  # output is one array
        self.raw = self.out_avals = None
        if run is not None:   # a program on a mesh's devices (a shard_map inside): `run` runs it
            self.run, self.execute, self.handlers, self.out_aval = run, None, None, None
            return
        # without consts to prepend, call the executable directly (one Python frame less)
        self.run = program.exe.call if not program.const_bufs else program.run
        # ... and the hot path runs `execute(bufs).consume_with_handlers(handlers)` itself
        # (no frame at all) where the executable has its C++ output handlers
        exe = program.exe
        self.execute = exe._execute
        self.handlers = exe._handlers if not program.const_bufs else None
        # one output: run with jaxlib's own handler and make the Array inline
        self.out_aval = None
        if self.handlers is not None and self.single and exe.raw_handlers is not None:
            self.handlers = exe.raw_handlers
            self.out_aval = canonical_aval(program.out_avals[0])
        elif self.handlers is not None and exe.raw_handlers is not None and exe.raw_handlers is not exe._handlers:
            # several outputs: the C hot path (_cfast.c) runs jaxlib's own handlers and
            # makes the Arrays itself, with these avals (as `array_maker`)
            self.raw = exe.raw_handlers
            self.out_avals = tuple(canonical_aval(a) for a in program.out_avals)


_ctx = core.ctx
_eval_trace = core.eval_trace
_traced = core.traced   # empty: no thread is tracing (so neither is this one)
_DJ = type(_local)      # its class attribute is the global jax_disable_jit
_dj_entered: list = []  # one entry per `disable_jit` context open in any thread, and one while
#                         jax_debug_nans/infs is on anywhere: the hot path then steps aside
_debug_nans.add_hook(lambda on: _dj_entered.append(None) if on else _dj_entered.pop())
# the ArrayImpl slot itself, not attrgetter("_buf"): a ShardedArray (a subclass whose `_buf`
# is a single-device copy for eager code) raises AttributeError here, so the hit paths
# below never run one on a single-device program
_get_buf = ArrayImpl._buf.__get__
_get_aval = operator.attrgetter("aval")
_tick, _collect_garbage = runtime.run_tick, runtime.collect_garbage
_new = object.__new__
_PY_SCALARS = (bool, int, float, complex)


_WRAPPER_ATTRS = ("__module__", "__name__", "__qualname__", "__doc__")


class _JitState:
    """What every `jit(f)` of one function with the same options shares (as JAX's caches,
    keyed by the function): the compiled and traced signatures, the trace count, and the
    wrapper's attributes (copied from `f` once). It holds no reference to `f` itself, so a
    function that dies frees its programs."""
    __slots__ = ("cache", "fast32", "fast64", "sig32", "sig64", "graphs", "trace_count", "attrs",
                 "__weakref__")

    def __init__(self):
        self.cache: dict = {}        # signature -> _Entry (compiled, eval-trace calls)
        self.fast32: dict = {}       # avals of positional Arrays -> _Entry (hot path) ...
        self.fast64: dict = {}       # ... one table per x64 mode
        self.sig32: dict = {}        # flat signature with statics/keywords/scalars -> _Entry
        self.sig64: dict = {}
        self.graphs: dict = {}       # signature -> (ClosedGraph, out_tree) (traced)
        self.trace_count = 0         # number of traces (tests check no retrace)
        self.attrs: dict = {}        # the Jitted's instance attributes but `fun`/`__wrapped__`

    def clear(self):
        for d in (self.cache, self.fast32, self.fast64, self.sig32, self.sig64, self.graphs):
            d.clear()


# Every _JitState made (weakly), so that `clear_caches` can empty them.
_live_states: "weakref.WeakSet[_JitState]" = weakref.WeakSet()
# The shared states: id(anchor) -> (weakref to anchor, {subkey: _JitState}). The anchor is
# the function (for a bound method, the object it is bound to, and the subkey holds
# `__func__`): keyed by identity, so unhashable callables work too, and dropped (with the
# programs) when the anchor dies. Read without a lock; created under `_states_lock`.
_fun_states: dict = {}
_states_lock = threading.Lock()


def _drop_anchor(key, ref):
    rec = _fun_states.get(key)
    if rec is not None and rec[0] is ref:
        del _fun_states[key]


def _anchor_of(fun, opts):
    if type(fun) is types.MethodType:
        return fun.__self__, (fun.__func__, opts)
    return fun, opts


def _new_state(fun, static_argnums, static_argnames, name):
    """A fresh state: validates the static arguments (ValueError when jit is applied, as JAX)."""
    st = _JitState()
    nums, names = _normalize_argnums(fun, static_argnums, static_argnames)
    attrs = st.attrs
    for a in _WRAPPER_ATTRS:
        try:
            attrs[a] = getattr(fun, a)
        except AttributeError:
            pass
    attrs.update(getattr(fun, "__dict__", {}))   # a jitted fun's own attributes are overridden below
    attrs.update(static_argnums=nums, static_argnames=names, _state=st, _cache=st.cache,
                 _fast32=st.fast32, _fast64=st.fast64, _sig32=st.sig32, _sig64=st.sig64,
                 _graphs=st.graphs, _simple=not nums and not names,
                 # the name the jit equation prints and the program is called by; `name=`
                 # (xlafront's own, not JAX's) lets a library jit an internal body under its
                 # public name
                 _name=name if name is not None else getattr(fun, "__name__", "fun"))
    if name is not None:
        attrs["__name__"] = attrs["__qualname__"] = name
    _live_states.add(st)
    return st


def _shared_state(fun, opts, static_argnums, static_argnames, name):
    """The state of `fun` jitted with `opts`, shared by every wrapper of it; a private one
    for callables that cannot be weakly referenced or options that cannot be hashed."""
    anchor, sub = _anchor_of(fun, opts)
    key = id(anchor)
    try:
        rec = _fun_states.get(key)
        if rec is not None and rec[0]() is anchor:
            st = rec[1].get(sub)
            if st is not None:
                return st
        hash(sub)
    except TypeError:   # options (or a bound method's function) that cannot be hashed
        return _new_state(fun, static_argnums, static_argnames, name)
    with _states_lock:
        rec = _fun_states.get(key)
        if rec is None or rec[0]() is not anchor:
            try:
                ref = weakref.ref(anchor, functools.partial(_drop_anchor, key))
            except TypeError:   # no weak references to it: a state of this wrapper only
                return _new_state(fun, static_argnums, static_argnames, name)
            rec = _fun_states[key] = (ref, {})
        st = rec[1].get(sub)
        if st is None:
            st = rec[1][sub] = _new_state(fun, static_argnums, static_argnames, name)
        return st


def _freeze(v):
    return tuple(v) if type(v) is list else v


class _PyCall:
    """The hot path in Python: `Jitted`'s base where `xlafront._cfast` (the same in C,
    xlafront/_cfast.c) is not built or XLAFRONT_NO_CEXT=1 is set."""
    __slots__ = ()

    # ---- the hot path: positional Array arguments whose signature was seen before.
    # The key is just their avals (the tree is implied: a flat tuple; one argument is keyed
    # by its aval alone), in one dict per x64 mode; no flatten, no treedef hash. Arities 1
    # to 3 are spelled out: map/attrgetter cost more than the whole lookup for them.
    # Everything else goes through `_call_slow`.
    def __call__(self, *args, **kwargs):
        if not _traced and not kwargs and not _dj_entered and not _DJ.disable_jit:
            n = len(args)
            entry = None
            if n == 1:
                a, = args
                if type(a) is ArrayImpl:
                    entry = (self._fast64 if config.x64 else self._fast32).get(a.aval)
                    bufs = [a._buf]
            elif n == 2:
                a, b = args
                if type(a) is ArrayImpl and type(b) is ArrayImpl:
                    entry = (self._fast64 if config.x64 else self._fast32).get((a.aval, b.aval))
                    bufs = [a._buf, b._buf]
            elif n == 3:
                a, b, c = args
                if type(a) is ArrayImpl and type(b) is ArrayImpl and type(c) is ArrayImpl:
                    entry = (self._fast64 if config.x64 else self._fast32).get((a.aval, b.aval, c.aval))
                    bufs = [a._buf, b._buf, c._buf]
            else:
                try:   # AttributeError unless every argument is an Array
                    entry = (self._fast64 if config.x64 else self._fast32).get(tuple(map(_get_aval, args)))
                    bufs = list(map(_get_buf, args))
                except (AttributeError, TypeError):
                    entry = None
            if entry is not None:
                h = entry.handlers
                if h is None:
                    outs = entry.run(bufs)
                else:
                    if not _tick() & 1023:
                        _collect_garbage()
                    outs = entry.execute(bufs).consume_with_handlers(h)
                    if entry.out_aval is not None:   # one output: the Array made here (as make_array)
                        out = _new(ArrayImpl)
                        out._buf, out.aval, out._npy = outs[0], entry.out_aval, None
                        return out
                return outs[0] if entry.single else entry.out_tree.unflatten(outs)
        if _debug_nans.active:   # jax_debug_nans/infs: the outputs are checked
            return _debug_nans.checked_jit_call(self, args, kwargs)
        return self._call_slow(args, kwargs)


_CallBase = _PyCall if _cfast is None else _cfast.JitBase


class Jitted(_CallBase):
    """A jit-compiled function: traced once per signature, compiled by XLA, cached. The
    caches belong to the function (and the jit options), so `jit(f)(x)` written anew on
    every call hits the programs of the first."""

    def __init__(self, fun, static_argnums=None, static_argnames=None, donate_argnums=None,
                 donate_argnames=None, inline=False, keep_unused=False, device=None, backend=None,
                 abstracted_axes=None, name=None, in_shardings=None, out_shardings=None):
        # donate_argnums is accepted; XLA:CPU does not donate (as JAX on CPU)
        opts = (_freeze(static_argnums), _freeze(static_argnames), _freeze(donate_argnums),
                _freeze(donate_argnames), inline, keep_unused, device, backend, abstracted_axes, name,
                _freeze(in_shardings), _freeze(out_shardings))
        st = _shared_state(fun, opts, static_argnums, static_argnames, name)
        d = self.__dict__
        d.update(st.attrs)
        d["fun"] = d["__wrapped__"] = fun
        d["donate_argnums"] = donate_argnums
        d["_in_shardings"] = _sharded_jit.requested(in_shardings)
        d["_out_shardings"] = _sharded_jit.requested(out_shardings)
        if _cfast is not None:   # the C hot path reads the tables from its own slots
            self._c_set_tables(st.fast32, st.fast64, st.cache, st.attrs["_simple"])

    @property
    def trace_count(self):
        """Traces of this function (with these options) so far, by every wrapper of it."""
        return self._state.trace_count

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def _call_slow(self, args, kwargs):
        """Any other call: pytrees, statics, keywords, numpy/scalar leaves, a new signature,
        or a call under a trace."""
        if _ctx.trace is not _eval_trace or _local.disable_jit:
            return self._call_traced(args, kwargs)
        sig = self._flat_signature(args, kwargs)
        if sig is not None:  # statics, keywords, Python scalars: no flatten on a hit
            sig_key, sig_bufs = sig
            try:
                entry = (self._sig64 if config.x64 else self._sig32).get(sig_key)
            except TypeError:  # an unhashable static: the general path says so
                entry = sig = None
            if entry is not None:
                outs = entry.run(sig_bufs)
                return outs[0] if entry.single else entry.out_tree.unflatten(outs)
        if self._simple and not kwargs:
            leaves, treedef = _flatten(args)
            statics = None
            try:  # second tier: every leaf an Array, signature seen before
                entry = self._cache.get((treedef, None, config.x64, *map(_get_aval, leaves)))
                bufs = list(map(_get_buf, leaves))
            except (AttributeError, TypeError):
                entry = None
            if entry is not None:
                self._remember_fast(args, entry)
                outs = entry.run(bufs)
                return outs[0] if entry.single else entry.out_tree.unflatten(outs)
        else:
            leaves, treedef, statics = self._split(args, kwargs)
        try:
            avals = [_leaf_aval(x) for x in leaves]
        except TypeError as e:
            raise self._bad_argument(treedef, leaves, e, statics is None) from None
        for x in leaves:
            if isinstance(x, Tracer):
                _leaked_tracer(x)
        if _sharded_jit.wants_sharded(self, leaves):   # over several devices
            return _sharded_jit.call(self, leaves, treedef, statics, avals)
        key = (treedef, statics, config.x64, *avals)
        try:
            entry = self._cache.get(key)
        except TypeError as e:  # a static whose __eq__/__hash__ fails
            raise TypeError(f"{e} (in a call of jitted function '{self._name}' at {core.user_site()})") from None
        if entry is None:
            entry = self._compile(key, avals, treedef, statics)
        if statics is None:
            self._remember_fast(args, entry)
        if sig is not None:
            (self._sig64 if config.x64 else self._sig32)[sig[0]] = entry
        bufs = [x._buf if type(x) is ArrayImpl else dispatch.to_buffer(x)[0] for x in leaves]
        outs = entry.run(bufs)
        return outs[0] if entry.single else entry.out_tree.unflatten(outs)

    def _flat_signature(self, args, kwargs):
        """(key, buffers) of a call whose arguments are all Arrays, Python scalars or statics
        (no containers), else None. The key holds avals, scalar types and static values; the
        buffers come in the order of the general path's leaves (keywords sorted by name)."""
        n = len(args)
        nums = self.static_argnums
        key = [n]
        bufs = []
        for i, a in enumerate(args):
            t = type(a)
            if nums and (i in nums or i - n in nums):
                key.append((t, a))
            elif t is ArrayImpl:
                key.append(a.aval)
                bufs.append(a._buf)
            elif t in _PY_SCALARS:
                key.append(t)
                bufs.append(dispatch.to_buffer(a)[0])
            else:
                return None
        if kwargs:
            names = self.static_argnames
            dyn = []
            for k, v in kwargs.items():
                t = type(v)
                if k in names:
                    key.append((k, t, v))
                elif t is ArrayImpl or t in _PY_SCALARS:
                    key.append((k, v.aval if t is ArrayImpl else t))
                    dyn.append(k)
                else:
                    return None
            if dyn:
                dyn.sort()
                for k in dyn:
                    v = kwargs[k]
                    bufs.append(v._buf if type(v) is ArrayImpl else dispatch.to_buffer(v)[0])
        return tuple(key), bufs

    def _remember_fast(self, args, entry):
        """Enter a plain call whose arguments are all Arrays into the hot path's table."""
        for a in args:
            if type(a) is not ArrayImpl:
                return
        key = args[0].aval if len(args) == 1 else tuple(a.aval for a in args)
        (self._fast64 if config.x64 else self._fast32)[key] = entry

    def _bad_argument(self, treedef, leaves, err, plain):
        """TypeError for a leaf that is not an array: name the function, the path and the site."""
        for path, x in tree_util.registry.flatten_with_path(treedef.unflatten(leaves))[0]:
            try:
                _leaf_aval(x)
            except TypeError:
                where = _argument_path(self.fun, path, plain)
                return TypeError(
                    f"Error interpreting argument to jitted function '{self._name}' as an abstract array "
                    f"(at {core.user_site()}). The problematic value is of type {type(x).__name__} and was "
                    f"passed at path {where or '(the argument itself)'}: {x!r:.80}. Arguments must be arrays, "
                    f"numpy arrays, Python scalars or pytrees of them; mark others static with "
                    f"`static_argnums`/`static_argnames`.")
        return err

    def _split(self, args, kwargs):
        """Separate static arguments (hashed into the key) from dynamic ones (flattened)."""
        statics = []
        dyn_args = []
        for i, a in enumerate(args):
            if i in self.static_argnums or (i - len(args)) in self.static_argnums:
                statics.append(("#", i, _hashable(a, f"argument {i}")))
            else:
                dyn_args.append(a)
        dyn_kwargs = {}
        for k, v in kwargs.items():
            if k in self.static_argnames:
                statics.append(("=", k, _hashable(v, f"argument {k!r}")))
            else:
                dyn_kwargs[k] = v
        leaves, treedef = _flatten((tuple(dyn_args), dyn_kwargs))
        return leaves, treedef, tuple(statics)

    def _rebuild(self, treedef, statics, leaves):
        """Inverse of _split: the call's args and kwargs with statics put back.

        `statics is None` marks the plain path, where the tree is just the args tuple."""
        tree = treedef.unflatten(leaves)
        if statics is None:
            return list(tree), {}
        dyn_args, kwargs = tree
        args = list(dyn_args)
        for kind, k, v in statics:
            if kind == "#":
                args.insert(k, v.value)
            else:
                kwargs[k] = v.value
        return args, kwargs

    def _trace(self, treedef, statics, in_avals):
        """Trace the function over abstract leaves into a ClosedGraph."""
        out_tree_box = []

        def flat_fun(*tracers):
            args, kwargs = self._rebuild(treedef, statics, list(tracers))
            out = self.fun(*args, **kwargs)
            out_leaves, out_tree = _flatten(out)
            out_tree_box.append(out_tree)
            return [_check_output(x, self._name) for x in out_leaves]

        self._state.trace_count += 1
        graph = core.trace_to_graph(flat_fun, in_avals)
        return graph, out_tree_box[0]

    def _compile(self, key, in_avals, treedef, statics):
        closed, out_tree = self._trace(treedef, statics, in_avals)
        on_mesh = _shard_map.on_mesh_runner(self._name, closed)   # None unless a shard_map is inside
        entry = _Entry(_compile_structural(self._name, closed) if on_mesh is None else None, out_tree, on_mesh)
        self._cache[key] = entry
        return entry

    # ---- under another trace: bind the jit primitive with the traced graph
    def _call_traced(self, args, kwargs):
        if _local.disable_jit:
            return self.fun(*args, **kwargs)
        leaves, treedef, statics = self._split(args, kwargs) if (kwargs or not self._simple) else \
            (*_flatten(args), None)
        in_avals = [_leaf_aval(x) for x in leaves]
        key = (treedef, statics, config.x64, *in_avals)
        hit = self._graphs.get(key)
        if hit is None:
            closed, out_tree = self._trace(treedef, statics, in_avals)
            hoisted = hoist_consts(closed)
            hit = (hoisted, closed.consts, out_tree)
            if not any(isinstance(c, Tracer) for c in closed.consts):
                self._graphs[key] = hit
        graph, consts, out_tree = hit
        outs = P.jit_p.bind(*consts, *leaves, graph=graph, name=self._name)
        return out_tree.unflatten(outs)

    # ---- inspection
    def lower(self, *args, **kwargs):
        leaves, treedef, statics = self._split(args, kwargs) if (kwargs or not self._simple) else \
            (*_flatten(args), None)
        try:
            in_avals = [_leaf_aval(x) for x in leaves]
        except TypeError as e:
            raise self._bad_argument(treedef, leaves, e, statics is None) from None
        if _sharded_jit.wants_sharded(self, leaves):
            return _sharded_jit.ShardedLowered(
                _sharded_jit.call(self, leaves, treedef, statics, in_avals, lower_only=True),
                self, (leaves, treedef, statics, in_avals))
        closed, out_tree = self._trace(treedef, statics, in_avals)
        return Lowered(self._name, closed, out_tree, in_avals, treedef, statics is None)

    def eval_shape(self, *args, **kwargs):
        return self.lower(*args, **kwargs).out_info

    def trace(self, *args, **kwargs):
        return self.lower(*args, **kwargs)

    def _cache_size(self):
        return len(self._cache)

    def clear_cache(self):
        """Empty the caches of this function (shared by every jit of it with these options)."""
        self._state.clear()


if _cfast is not None:
    _cfast.setup(traced=core.traced, dj_entered=_dj_entered, dj_type=_DJ, config_dict=config.__dict__,
                 nans_active=_debug_nans.active, checked_call=_debug_nans.checked_jit_call,
                 array_type=ArrayImpl, entry_type=_Entry, collect_garbage=_collect_garbage,
                 flatten=_flatten, ndarray_type=np.ndarray)
    _cfast.enable_vectorcall(Jitted)


# Programs by the structure of their graph (no consts), for the functions that are new on
# every call (`jit(lambda x: ...)(x)` in a loop): they trace again, but compile once.
_programs: dict = core.cache({})
_PROGRAMS_MAX = 1024


def _compile_structural(name, closed):
    if closed.consts:
        return dispatch.compile_graph(name, closed.graph, closed.consts)
    try:
        key = (name, core.graph_fingerprint(closed.graph))
        program = _programs.get(key)
    except TypeError:   # a param that cannot be hashed: not cached
        return dispatch.compile_graph(name, closed.graph, ())
    if program is None:
        program = dispatch.compile_graph(name, closed.graph, ())
        if len(_programs) >= _PROGRAMS_MAX:
            core.evict_oldest(_programs)
        _programs[key] = program
    return program


def _argument_path(fun, path, plain):
    """'x', 'params['w']' or 'args[2]' for a key path into the arguments of a call."""
    if plain and path and isinstance(path[0], tree_util.SequenceKey):
        try:
            names = [p.name for p in inspect.signature(fun).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            names = []
        i = path[0].idx
        head = names[i] if i < len(names) else f"args[{i}]"
        return head + tree_util.keystr(path[1:])
    if not plain and len(path) >= 2 and isinstance(path[0], tree_util.SequenceKey) and path[0].idx == 1:
        return str(path[1].key) + tree_util.keystr(path[2:])   # a keyword argument
    return tree_util.keystr(path)


def _leaked_tracer(x):
    """A tracer reached an eager (top-level) jit call: it escaped the trace that made it."""
    x._trace.check_alive_tracer(x)
    raise core.UnexpectedTracerError(
        f"Encountered an unexpected tracer {x!r} at {core.user_site()}: a value traced inside a "
        f"transformation (jit, grad, vmap, ...) was passed to a jitted function outside of it. "
        f"Return the value from the transformed function instead of storing it.")


def hoist_consts(closed: ClosedGraph) -> Graph:
    """The graph with its constvars turned into leading invars (for the jit primitive)."""
    g = closed.graph
    return Graph([], g.constvars + g.invars, g.eqns, g.outvars)


def _check_output(x, name):
    if isinstance(x, (Tracer, ArrayImpl)):
        return x
    if isinstance(x, (int, float, bool, complex, np.ndarray, np.generic)):
        return x
    raise TypeError(f"jitted function '{name}' returned a value of type {type(x).__name__} "
                    f"({x!r}) in its output; outputs must be arrays, scalars or pytrees of them")


class NonHashableStaticArgumentError(TypeError, ValueError):
    """A static argument that cannot be hashed (JAX raises ValueError; it is a TypeError too)."""


class _Static:
    """A static argument in a cache key: hashed and compared by value."""
    __slots__ = ("value", "_hash")

    def __init__(self, value, h):
        self.value, self._hash = value, h

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return type(other) is _Static and type(self.value) is type(other.value) and self.value == other.value


def _hashable(v, what):
    try:
        h = hash(v)
    except TypeError:
        raise NonHashableStaticArgumentError(f"Non-hashable static arguments are not supported: {what} of type "
                        f"{type(v).__name__} ({v!r}) cannot be hashed (at {core.user_site()}). "
                        f"Pass a tuple instead of a list, or make it a dynamic argument.") from None
    return _Static(v, h)


class Lowered:
    """The result of `jit(f).lower(*args)`: StableHLO text, and `.compile()`."""

    def __init__(self, name, closed: ClosedGraph, out_tree, in_avals, in_tree=None, plain=True):
        self.name, self.closed, self.out_tree, self.in_avals = name, closed, out_tree, in_avals
        self.in_tree, self._plain = in_tree, plain   # tree of the dynamic arguments
        self._text = None

    def as_text(self, dialect="stablehlo", debug_info=True):
        if self._text is None:
            self._text = lower_graph(self.name, self.closed.graph, self.closed.consts)[0]
        return self._text

    @property
    def out_info(self):
        return self.out_tree.unflatten([ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                                        for a in self.closed.out_avals])

    def compile(self):
        program = dispatch.compile_graph(self.name, self.closed.graph, self.closed.consts)
        return Compiled(program, self.out_tree, self.in_avals, self.in_tree, self._plain)

    def compiler_ir(self, dialect="stablehlo"):
        return self.as_text()

    def cost_analysis(self) -> dict:
        """XLA's cost estimate of the program before optimization (as JAX's): a dict with
        'flops', 'transcendentals', 'bytes accessed', ..."""
        return runtime.hlo_cost_analysis(self.as_text())


class Compiled:
    """`jit(f).lower(*args).compile()`: called with the dynamic arguments only (statics
    were fixed when lowering), of the same tree and types."""

    def __init__(self, program, out_tree, in_avals, in_tree=None, plain=True):
        self.program, self.out_tree, self.in_avals = program, out_tree, in_avals
        self.in_tree, self._plain = in_tree, plain

    def __call__(self, *args, **kwargs):
        if self._plain and not kwargs:
            leaves, tree = _flatten(args)
        else:
            leaves, tree = _flatten((args, kwargs))
        if self.in_tree is not None and tree != self.in_tree:
            raise TypeError(f"Function compiled with input pytree {self.in_tree} called with "
                            f"input pytree {tree} (at {core.user_site()})")
        avals = [_leaf_aval(x) for x in leaves]
        if [a.strip_weak() for a in avals] != [a.strip_weak() for a in self.in_avals]:
            raise TypeError(f"Compiled function called with arguments of types "
                            f"{[a.str_short() for a in avals]}, but it was compiled for "
                            f"{[a.str_short() for a in self.in_avals]}")
        bufs = [dispatch.to_buffer(x)[0] for x in leaves]
        return self.out_tree.unflatten(self.program.run(bufs))

    def as_text(self):
        return self.program.exe.hlo_text()

    def cost_analysis(self) -> dict:
        """XLA's cost estimate of the optimized program (as JAX's): a dict with 'flops',
        'transcendentals', 'bytes accessed', ..."""
        return runtime.cost_analysis(self.program.exe)

    def memory_analysis(self):
        """The compiled program's memory sizes (as JAX's): an object with
        argument_size_in_bytes, output_size_in_bytes, temp_size_in_bytes,
        generated_code_size_in_bytes, alias_size_in_bytes."""
        return runtime.memory_stats(self.program.exe)


class ShapeDtypeStruct:
    """The shape, dtype and weak type of an array, without its value (as jax.ShapeDtypeStruct):
    what `eval_shape` returns, and a stand-in argument for tracing (`eval_shape`, `lower`)."""
    __slots__ = ("shape", "dtype", "weak_type", "sharding")

    def __init__(self, shape, dtype, *, sharding=None, weak_type=False):
        if dtype is None:
            raise ValueError("ShapeDtypeStruct: dtype must be specified.")
        self.shape = tuple(shape)
        self.dtype = dtypes.dtype(dtype)
        self.weak_type = bool(weak_type)
        self.sharding = sharding

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    @classmethod
    def like(cls, x) -> "ShapeDtypeStruct":
        """The shape, dtype and weak type of `x` (an array, a Python or NumPy scalar, a
        NumPy array, or a ShapeDtypeStruct), as the array `x` would become."""
        if isinstance(x, ShapeDtypeStruct):
            return cls(x.shape, x.dtype, sharding=x.sharding, weak_type=x.weak_type)
        a = core.get_aval(x)
        return cls(a.shape, dtypes.canonicalize(a.dtype), sharding=getattr(x, "sharding", None) if
                   not isinstance(x, (np.ndarray, np.generic)) else None, weak_type=a.weak_type)

    def update(self, shape=None, dtype=None, sharding=None, weak_type=None):
        return ShapeDtypeStruct(self.shape if shape is None else shape,
                                self.dtype if dtype is None else dtype,
                                sharding=self.sharding if sharding is None else sharding,
                                weak_type=self.weak_type if weak_type is None else weak_type)

    def __repr__(self):
        w = ", weak_type=True" if self.weak_type else ""
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{w})"

    __str__ = __repr__

    def __eq__(self, other):
        return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type
                and self.sharding == other.sharding)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.weak_type))


core.aval_of_type[ShapeDtypeStruct] = lambda s: ShapedArray(s.shape, dtypes.canonicalize(s.dtype), s.weak_type)


def jit(fun: Callable | None = None, *, static_argnums=None, static_argnames=None, donate_argnums=None,
        donate_argnames=None, **kwargs):
    """Compile `fun` with XLA: traced once per signature of its arguments, then cached."""
    if fun is None:
        return lambda f: jit(f, static_argnums=static_argnums, static_argnames=static_argnames,
                             donate_argnums=donate_argnums, donate_argnames=donate_argnames, **kwargs)
    if not callable(fun):
        raise TypeError(f"jit expects a callable, got {type(fun).__name__}")
    return Jitted(fun, static_argnums, static_argnames, donate_argnums, donate_argnames, **kwargs)


_shard_map.jit = jit   # (shard_map outside a trace runs as a jit over its mesh)
_sharded_array.jit = jit   # (eager ops on typed arrays run as jits over their mesh)


def make_jaxpr(fun: Callable, static_argnums=(), axis_env=None, return_shape=False, abstracted_axes=None):
    """`make_jaxpr(f)(*args)` -> the ClosedGraph xlafront traces `f` to (prints like a jaxpr)."""
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)

    @functools.wraps(fun)
    def make(*args, **kwargs):
        j = Jitted(fun, static_argnums=static_argnums)
        leaves, treedef, statics = j._split(args, kwargs) if (kwargs or not j._simple) else (*_flatten(args), None)
        in_avals = [_leaf_aval(x) for x in leaves]
        closed, out_tree = j._trace(treedef, statics, in_avals)
        if return_shape:
            return closed, out_tree.unflatten([ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                                               for a in closed.out_avals])
        return closed

    return make


def eval_shape(fun, *args, **kwargs):
    """The shapes and dtypes (ShapeDtypeStructs, in `fun`'s output tree) of `fun(*args, **kwargs)`,
    traced abstractly: nothing is compiled or run. Arguments may be arrays, scalars
    (weakly typed), ShapeDtypeStructs or anything with `.shape` and `.dtype`."""
    leaves, treedef = _flatten((args, kwargs))
    try:
        in_avals = [_shape_dtype_aval(x) for x in leaves]
    except TypeError:
        raise _eval_shape_bad_argument(fun, treedef, leaves) from None
    box = []

    def flat(*tracers):
        a, k = treedef.unflatten(tracers)
        out_leaves, out_tree = _flatten(fun(*a, **k))
        box.append(out_tree)
        return out_leaves

    closed = core.trace_to_graph(flat, in_avals)
    return box[0].unflatten([ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in closed.out_avals])


def _shape_dtype_aval(x):
    try:
        return _leaf_aval(x)
    except TypeError:
        shape, dt = getattr(x, "shape", None), getattr(x, "dtype", None)
        if shape is None or dt is None:
            raise
        return ShapedArray(tuple(shape), dtypes.canonicalize(dtypes.dtype(dt)),
                           bool(getattr(x, "weak_type", False)))


def _eval_shape_bad_argument(fun, treedef, leaves):
    for path, x in tree_util.registry.flatten_with_path(treedef.unflatten(leaves))[0]:
        try:
            _shape_dtype_aval(x)
        except TypeError:
            where = _argument_path(fun, path[1:], True) if path and path[0] == tree_util.SequenceKey(0) \
                else (str(path[1].key) + tree_util.keystr(path[2:]) if len(path) > 1 else "")
            return TypeError(
                f"Error interpreting argument to {fun!r} as an abstract array (at {core.user_site()}). "
                f"The problematic value is of type {type(x)} and was passed to the function at path "
                f"{where}. This typically means that a jit-wrapped function was called with a "
                f"non-array argument, and this argument was not marked as static.")
    return TypeError(f"eval_shape: invalid arguments (at {core.user_site()})")


# ----------------------------------------------------------------------------- devices
def devices(backend=None):
    return runtime.devices()


def local_devices(process_index=None, backend=None, host_id=None):
    """This process's devices (`process_index`: another process's, from the global list)."""
    if process_index is None and host_id is not None:
        process_index = host_id
    if process_index is None:
        return runtime.local_devices()
    return [d for d in runtime.devices() if d.process_index == process_index]


def process_index(backend=None):
    return runtime.process_index()


def process_count(backend=None):
    return len({d.process_index for d in runtime.devices()})


def process_indices(backend=None):
    """Every process's index (as jax.process_indices)."""
    return sorted({d.process_index for d in runtime.devices()})


def device_count(backend=None):
    return len(runtime.devices())


def local_device_count(backend=None):
    return len(runtime.local_devices())


def default_backend():
    return runtime.backend().platform


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
    """A pytree of arrays on the device: numpy arrays and scalars are copied there (scalars
    keep their weak type), Arrays are returned as they are; inside a trace, the identity."""
    if device is not None:
        return _sharded_array.device_put(x, device)

    def put(v):
        if isinstance(v, (ArrayImpl, Tracer)):
            return v
        try:
            buf, aval = dispatch.to_buffer(v)
        except (TypeError, AttributeError):
            raise TypeError(f"Argument {v!r} of type {type(v)} is not a valid JAX type "
                            f"(at {core.user_site()}): device_put takes arrays, numpy arrays, "
                            f"Python scalars and pytrees of them") from None
        return make_array(buf, aval)
    return tree_util.tree_map(put, x)


def device_get(x):
    """Host numpy copies of a pytree of arrays; leaves that are not Arrays are returned as
    they are."""
    leaves, treedef = _flatten(x)
    return treedef.unflatten([np.asarray(v) if isinstance(v, ArrayImpl) else v for v in leaves])


def block_until_ready(x):
    """Wait until every Array in the pytree `x` is computed; returns `x`."""
    for leaf in tree_util.tree_leaves(x):
        if isinstance(leaf, ArrayImpl):
            leaf.block_until_ready()
    return x


# ----------------------------------------------------------------------------- jax top-level utilities
Device = runtime.device_class()   # the type of `devices()[0]`, for isinstance checks (jax.Device)


class _CompileTimeEvalTrace(core.Trace):
    """The trace under `ensure_compile_time_eval`: a primitive whose operands are all
    concrete (no tracers) runs now, on the bottom eval trace, so its result is a concrete
    Array; one with a tracer operand goes to the trace that was current before (`parent`)
    and is staged or transformed as usual."""

    def process_primitive(self, prim, args, params):
        for x in args:
            if isinstance(x, Tracer):
                return self.parent.process_primitive(prim, args, params)
        return _eval_trace.process_primitive(prim, args, params)


class _Saved(threading.local):
    """The values a context manager restores on exit, one stack per thread: one instance
    (a decorator's) may be entered in several threads at once."""

    def __init__(self):
        self.stack = []


class ensure_compile_time_eval(contextlib.ContextDecorator):
    """Context manager (as jax.ensure_compile_time_eval): inside it, even under jit, operations
    whose inputs are all concrete values run eagerly and give concrete Arrays (usable in
    Python control flow); operations on traced values are traced as usual."""

    def __init__(self):
        self._saved = _Saved()

    def __enter__(self):
        prev = _ctx.trace
        self._saved.stack.append(prev)
        if prev is not _eval_trace:   # at the top level everything is eager already
            core.set_trace(_CompileTimeEvalTrace(prev))
        return None

    def __exit__(self, *exc):
        core.set_trace(self._saved.stack.pop())
        return False


class _ConfigState(contextlib.ContextDecorator):
    """A context manager (and decorator) that sets a value for its extent, restoring the old one."""

    def __init__(self, value):
        self.value = value
        self._saved = _Saved()

    def _get(self):
        raise NotImplementedError

    def _set(self, value):
        raise NotImplementedError

    def __enter__(self):
        self._saved.stack.append(self._get())
        self._set(self.value)
        return None

    def __exit__(self, *exc):
        self._set(self._saved.stack.pop())
        return False


_UNSET = object()


class disable_jit(_ConfigState):
    """Context manager (as jax.disable_jit): inside it `jit` runs functions as plain Python,
    op by op, on every call. It sets this thread's value only, as JAX's (`config.update(
    "jax_disable_jit", ...)` sets the global one)."""

    def __init__(self, disable: bool = True):
        super().__init__(bool(disable))

    def __enter__(self):
        _dj_entered.append(None)   # before the override: the jit hot path then reads it
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            _dj_entered.pop()

    def _get(self):   # this thread's own override, or _UNSET (then it follows the global value)
        return _local.__dict__.get("disable_jit", _UNSET)

    def _set(self, value):
        if value is _UNSET:
            _local.__dict__.pop("disable_jit", None)
        else:
            _local.disable_jit = value


class _ThreadState(threading.local):
    """The values of the scoped context managers, one set per thread (as JAX's)."""
    default_device = None
    default_matmul_precision = None

    def __init__(self):
        self.name_stack = []


_state = _ThreadState()
_PLATFORM_NAMES = ("cpu", "gpu", "cuda", "rocm", "tpu")
_MATMUL_PRECISIONS = ("default", "high", "highest", "bfloat16", "tensorfloat32", "float32",
                      "ANY_F8_ANY_F8_F32", "ANY_F8_ANY_F8_F32_FAST_ACCUM", "ANY_F8_ANY_F8_ANY",
                      "ANY_F8_ANY_F8_ANY_FAST_ACCUM", "F16_F16_F16", "F16_F16_F32", "BF16_BF16_BF16",
                      "BF16_BF16_F32", "BF16_BF16_F32_X3", "BF16_BF16_F32_X6", "BF16_BF16_F32_X9",
                      "TF32_TF32_F32", "TF32_TF32_F32_X3", "F32_F32_F32", "F64_F64_F64")


class default_device(_ConfigState):
    """Context manager (as jax.default_device) taking a Device, a platform name or None.
    xlafront runs on one device, so the value is only recorded (`current_default_device()`)."""

    def __init__(self, new_val=None):
        ok = new_val is None or isinstance(new_val, Device) or (
            isinstance(new_val, str) and new_val.lower() in _PLATFORM_NAMES)
        if not ok:
            raise ValueError(f"jax.default_device must be passed either a Device object (e.g. "
                             f"`jax.devices('cpu')[0]`) or a platform name string like 'cpu' or 'gpu', "
                             f"got: {new_val!r} (at {core.user_site()})")
        super().__init__(new_val)

    def _get(self):
        return _state.default_device

    def _set(self, value):
        _state.default_device = value


class default_matmul_precision(_ConfigState):
    """Context manager (as jax.default_matmul_precision). The value is recorded
    (`current_default_matmul_precision()`); on the CPU every precision computes alike."""

    def __init__(self, new_val=None):
        if new_val is not None and new_val not in _MATMUL_PRECISIONS:
            raise ValueError(f"new enum value must be None or in {list(_MATMUL_PRECISIONS)}, got {new_val!r} "
                             f"of type {type(new_val)} (at {core.user_site()}).")
        super().__init__(new_val)

    def _get(self):
        return _state.default_matmul_precision

    def _set(self, value):
        _state.default_matmul_precision = value


def current_default_device():
    """The device or platform set by the innermost `default_device` (None if none is)."""
    return _state.default_device


def current_default_matmul_precision():
    """The precision set by the innermost `default_matmul_precision` (None if none is)."""
    return _state.default_matmul_precision


class named_scope(contextlib.ContextDecorator):
    """Context manager and decorator (as jax.named_scope). JAX uses the name in the HLO
    metadata; xlafront keeps the stack of names (`current_name_stack()`) and traces as usual."""

    def __init__(self, name: str):
        if not isinstance(name, str):
            raise TypeError("named_scope name argument must be a string.")
        self.name = name

    def __enter__(self):
        _state.name_stack.append(self.name)
        return None

    def __exit__(self, *exc):
        _state.name_stack.pop()
        return False


def current_name_stack() -> str:
    """The names of the enclosing named scopes, outermost first, joined by '/'."""
    return "/".join(_state.name_stack)


def named_call(fun, *, name=None):
    """`fun` called inside `named_scope(name or fun.__name__)` (as jax.named_call)."""
    if name is None:
        name = fun.__name__

    @functools.wraps(fun)
    def named(*args, **kwargs):
        with named_scope(name):
            return fun(*args, **kwargs)
    return named


def clear_caches():
    """Empty xlafront's compile and trace caches (as jax.clear_caches): every jitted function
    traces and compiles again on its next call, and so do eager ops and staged gradients."""
    while True:
        try:
            live = list(_live_states)
            break
        except RuntimeError:   # another thread made (or dropped) a jitted function meanwhile
            continue
    for st in live:
        st.clear()
    dispatch.clear_caches()
    core.clear_caches()   # every cache registered with core.cache


def typeof(x):
    """The abstract value of x (as jax.typeof): its ShapedArray, weak type included."""
    if isinstance(x, (ArrayImpl, Tracer)):
        return x.aval
    if isinstance(x, core.Array):   # a typed key array: key<fry>[...]
        return ShapedArray(x.shape, x.dtype)
    try:
        return core.get_aval(x)
    except TypeError:
        raise TypeError(f"Argument {x!r} of type {type(x)} is not a valid JAX type "
                        f"(at {core.user_site()})") from None


def live_arrays(platform=None):
    """The Arrays alive now (not deleted), as jax.live_arrays. Found by a scan of the objects
    Python's garbage collector tracks: meant for debugging, it costs time in the heap's size."""
    if platform is not None:
        want, have = str(platform).lower(), runtime.backend().platform
        if want != have and not (want == "gpu" and have in ("cuda", "rocm")):
            return []
    import gc
    return [o for o in gc.get_objects() if isinstance(o, ArrayImpl) and not o.is_deleted()]


def print_environment_info(return_string: bool = False):
    """The versions and devices xlafront runs with (as jax.print_environment_info)."""
    import platform
    import sys
    import textwrap
    from xlafront._version import __version__
    b = runtime.backend()
    n = len(b.devices)
    info = textwrap.dedent(f"""\
    xlafront: {__version__}
    jaxlib: {runtime.jaxlib_release()}
    numpy:  {np.__version__}
    python: {sys.version.replace(chr(10), ' ')}
    device info: {b.platform}-{n}, {len(b.local_devices)} local devices
    process_count: {process_count()}
    platform: {platform.uname()}""")
    if return_string:
        return info
    print(info)
    return None
