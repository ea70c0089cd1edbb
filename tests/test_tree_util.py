"""xlafront.tree_util / xlafront.tree against jax.tree_util: the functions, treedef reprs,
key paths, error classes and messages; custom nodes (register_pytree_node, _class,
_with_keys, register_dataclass, Partial) through jit, grad, vmap, jacfwd/jacrev, scan, cond."""
import collections
import dataclasses
import functools
import operator

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import xlafront as xf
import xlafront.numpy as xnp
from xlafront import tree_util as tu
from xlafront import lax as xl

jtu = jax.tree_util


# ----------------------------------------------------------------------------- custom nodes
# Each class is registered in both registries, so the same object flattens in both.
class Point:
    def __init__(self, x, y, tag="p"):
        self.x, self.y, self.tag = x, y, tag

    def __repr__(self):
        return f"Point({self.x!r}, {self.y!r}, {self.tag!r})"


for _reg in (jtu.register_pytree_node, tu.register_pytree_node):
    _reg(Point, lambda p: ((p.x, p.y), p.tag), lambda tag, xs: Point(*xs, tag))


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def tree_flatten(self):
        return (self.a, self.b), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


jtu.register_pytree_node_class(Pair)
assert tu.register_pytree_node_class(Pair) is Pair


class Keyed:
    def __init__(self, w, b):
        self.w, self.b = w, b


def _keyed_flatten(k):
    return ((jtu.GetAttrKey("w"), k.w), (jtu.GetAttrKey("b"), k.b)), None


def _keyed_flatten_xf(k):
    return ((tu.GetAttrKey("w"), k.w), (tu.GetAttrKey("b"), k.b)), None


jtu.register_pytree_with_keys(Keyed, _keyed_flatten, lambda aux, ch: Keyed(*ch))
tu.register_pytree_with_keys(Keyed, _keyed_flatten_xf, lambda aux, ch: Keyed(*ch))


@dataclasses.dataclass
class Params:
    w: object
    b: object
    act: str = dataclasses.field(default="relu", metadata=dict(static=True))


jtu.register_dataclass(Params)
assert tu.register_dataclass(Params) is Params


@dataclasses.dataclass
class Explicit:
    x: object
    n: int


jtu.register_dataclass(Explicit, data_fields=["x"], meta_fields=["n"])
tu.register_dataclass(Explicit, data_fields=["x"], meta_fields=["n"])

NT = collections.namedtuple("NT", ["u", "v"])

TREES = [
    1.0,
    None,
    (),
    [1, (2, 3), {"b": 4, "a": [5, None]}],
    {"z": (1, 2), "a": {"k": 3}},
    NT(1, [2, 3]),
    collections.OrderedDict([("b", 1), ("a", 2)]),
    collections.defaultdict(list, {"y": 1, "x": (2,)}),
    Point(1, (2, 3), "aux"),
    Pair([1, 2], {"q": 3}),
    Keyed(1, [2, 3]),
    Params(w=1, b=(2, 3), act="tanh"),
    Explicit(x=[1, 2], n=7),
    [Point(1, 2), Params(1, 2)],
]


@pytest.mark.parametrize("tree", TREES, ids=[repr(type(t).__name__) + str(i) for i, t in enumerate(TREES)])
def test_flatten_structure_and_paths_match_jax(tree):
    leaves, treedef = tu.tree_flatten(tree)
    jleaves, jtreedef = jtu.tree_flatten(tree)
    assert leaves == jleaves
    assert repr(treedef) == repr(jtreedef) and str(treedef) == str(jtreedef)
    assert treedef.num_leaves == jtreedef.num_leaves and treedef.num_nodes == jtreedef.num_nodes
    assert tu.tree_leaves(tree) == jtu.tree_leaves(tree)
    assert repr(tu.tree_structure(tree)) == repr(jtu.tree_structure(tree))
    back = tu.tree_unflatten(treedef, leaves)
    assert repr(tu.tree_structure(back)) == repr(jtreedef)
    assert tu.treedef_is_leaf(treedef) == jtu.treedef_is_leaf(jtreedef)
    assert [repr(c) for c in tu.treedef_children(treedef)] == [repr(c) for c in jtu.treedef_children(jtreedef)]
    # key paths
    kl, kt = tu.tree_flatten_with_path(tree)
    jkl, jkt = jtu.tree_flatten_with_path(tree)
    assert [(tu.keystr(p), x) for p, x in kl] == [(jtu.keystr(p), x) for p, x in jkl]
    assert [tu.keystr(p, simple=True, separator="/") for p, _ in kl] == \
        [jtu.keystr(p, simple=True, separator="/") for p, _ in jkl]
    assert [repr(p) for p, _ in tu.tree_leaves_with_path(tree)] == [repr(p) for p, _ in jtu.tree_leaves_with_path(tree)]
    assert repr(kt) == repr(jkt)
    # map, several trees
    doubled = tu.tree_map(lambda a, b: a + b, tree, tree)
    jdoubled = jtu.tree_map(lambda a, b: a + b, tree, tree)
    assert tu.tree_leaves(doubled) == jtu.tree_leaves(jdoubled)
    assert repr(tu.tree_structure(doubled)) == repr(jtu.tree_structure(jdoubled))
    mp = tu.tree_map_with_path(lambda p, a: tu.keystr(p) + str(a), tree)
    jmp = jtu.tree_map_with_path(lambda p, a: jtu.keystr(p) + str(a), tree)
    assert tu.tree_leaves(mp) == jtu.tree_leaves(jmp)


def test_types_and_registry_queries():
    assert tu.PyTreeDef is type(tu.tree_structure([1]))
    assert tu.is_tree_node(Point) and tu.is_tree_node(dict) and not tu.is_tree_node(int)
    assert tu.all_leaves([1, 2.0, "s"]) and not tu.all_leaves([1, (2,)])
    assert tu.all_leaves([(1,), 2], is_leaf=lambda x: isinstance(x, tuple)) == \
        jtu.all_leaves([(1,), 2], is_leaf=lambda x: isinstance(x, tuple))
    assert tu.treedef_is_strict_leaf(tu.tree_structure(1)) and not tu.treedef_is_strict_leaf(tu.tree_structure(None))
    assert tu.treedef_is_leaf(tu.tree_structure(None)) == jtu.treedef_is_leaf(jtu.tree_structure(None))
    t = tu.treedef_tuple([tu.tree_structure([1, 2]), tu.tree_structure({"a": 1})])
    assert repr(t) == repr(jtu.treedef_tuple([jtu.tree_structure([1, 2]), jtu.tree_structure({"a": 1})]))
    assert list(tu.flatten_one_level({"b": 1, "a": (2,)})[0]) == list(jtu.flatten_one_level({"b": 1, "a": (2,)})[0])
    with pytest.raises(ValueError):
        tu.flatten_one_level(3)
    assert tu.build_tree(tu.tree_structure({"a": (1, 2), "b": [3]}), [(9, 8), [7]]) == {"a": (9, 8), "b": [7]}
    # the names of jax.tree_util that user code reaches for
    for name in ["DictKey", "FlattenedIndexKey", "GetAttrKey", "SequenceKey", "Partial", "keystr",
                 "register_static", "register_pytree_with_keys_class", "tree_broadcast",
                 "tree_reduce_associative", "default_registry"]:
        assert hasattr(tu, name), name


def test_is_leaf_and_reduce_all_transpose():
    tree = {"a": (1, 2), "b": [(3, 4), 5]}
    is_tup = lambda x: isinstance(x, tuple)  # noqa: E731
    assert tu.tree_leaves(tree, is_leaf=is_tup) == jtu.tree_leaves(tree, is_leaf=is_tup)
    assert repr(tu.tree_structure(tree, is_leaf=is_tup)) == repr(jtu.tree_structure(tree, is_leaf=is_tup))
    assert tu.tree_map(lambda x: x if not is_tup(x) else sum(x), tree, is_leaf=is_tup) == \
        jtu.tree_map(lambda x: x if not is_tup(x) else sum(x), tree, is_leaf=is_tup)
    # several trees: the others may be deeper at a leaf of the first
    assert tu.tree_map(lambda a, b: (a, b), [1, 2], [(3, 4), {"k": 5}]) == \
        jtu.tree_map(lambda a, b: (a, b), [1, 2], [(3, 4), {"k": 5}])
    assert tu.tree_reduce(operator.add, tree) == jtu.tree_reduce(operator.add, tree) == 15
    assert tu.tree_reduce(operator.add, tree, 100) == 115
    assert tu.tree_reduce(lambda acc, t: acc + [t], tree, [], is_leaf=is_tup) == \
        jtu.tree_reduce(lambda acc, t: acc + [t], tree, [], is_leaf=is_tup)
    assert tu.tree_reduce_associative(operator.add, [1, 2, 3, 4]) == 10
    assert tu.tree_reduce_associative(operator.add, [], identity=0) == 0
    assert tu.tree_all([True, (1, 2)]) and not tu.tree_all([True, (0,)])
    assert tu.tree_all([(1, 0)], is_leaf=is_tup) == jtu.tree_all([(1, 0)], is_leaf=is_tup) is True
    assert tu.tree_all({}) is True
    # transpose: a list of dicts -> a dict of lists
    rows = [{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 6}]
    outer, inner = tu.tree_structure([0, 0, 0]), tu.tree_structure({"a": 0, "b": 0})
    got = tu.tree_transpose(outer, inner, rows)
    assert got == jtu.tree_transpose(jtu.tree_structure([0, 0, 0]), jtu.tree_structure({"a": 0, "b": 0}), rows)
    assert got == {"a": [1, 3, 5], "b": [2, 4, 6]}
    assert tu.tree_transpose(outer, None, rows) == got
    # broadcast a prefix
    assert tu.tree_broadcast([1, {"k": 2}], [(7, 8), {"k": [9, 9]}]) == \
        jtu.tree_broadcast([1, {"k": 2}], [(7, 8), {"k": [9, 9]}])


def test_errors_match_jax():
    cases = [
        lambda m: m.tree_map(lambda a, b: a, (1, 2), [1, 2]),
        lambda m: m.tree_map(lambda a, b: a, {"a": 1}, {"b": 1}),
        lambda m: m.tree_map(lambda a, b: a, (1, 2), (1, 2, 3)),
        lambda m: m.tree_map(lambda a, b: a, {"x": (1, 2)}, {"x": (1,)}),
        lambda m: m.tree_map_with_path(lambda p, a, b: a, {"x": [1, 2]}, {"x": (1, 2)}),
    ]
    for case in cases:
        with pytest.raises(ValueError) as ours:
            case(tu)
        with pytest.raises(ValueError) as ref:
            case(jtu)
        assert str(ours.value) == str(ref.value)
    with pytest.raises(ValueError, match="Too few leaves"):
        tu.tree_unflatten(tu.tree_structure((1, 2)), [1])
    with pytest.raises(ValueError, match="Too many leaves"):
        tu.tree_unflatten(tu.tree_structure((1, 2)), [1, 2, 3])
    with pytest.raises(TypeError) as ours:
        tu.tree_transpose(tu.tree_structure([0, 0]), tu.tree_structure((0, 0)), [(1, 2), (3,)])
    with pytest.raises(TypeError) as ref:
        jtu.tree_transpose(jtu.tree_structure([0, 0]), jtu.tree_structure((0, 0)), [(1, 2), (3,)])
    assert str(ours.value) == str(ref.value)
    with pytest.raises(TypeError, match="empty"):
        tu.tree_reduce(operator.add, [])
    with pytest.raises(TypeError, match="identity"):
        tu.tree_reduce_associative(operator.add, [])

    # register_dataclass misuse: the same classes and messages as JAX
    @dataclasses.dataclass
    class D:
        a: int
        b: int

    for m in (tu, jtu):
        with pytest.raises(ValueError, match="Missing fields"):
            m.register_dataclass(D, data_fields=["a"], meta_fields=[])
        with pytest.raises(ValueError, match="overlap"):
            m.register_dataclass(D, data_fields=["a", "b"], meta_fields=["a"])
        with pytest.raises(TypeError, match="both be specified"):
            m.register_dataclass(D, data_fields=["a", "b"])
        with pytest.raises(TypeError, match="not a dataclass"):
            m.register_dataclass(Point)
    # after the errors, a good registration works
    tu.register_dataclass(D)
    assert tu.tree_leaves(D(1, 2)) == [1, 2]


def test_keys_and_keystr():
    tree = {"foo": {"bar": {"baz": 1, "bat": [2, 3]}}, "k": Keyed(4, 5), "p": Params(6, 7)}
    got = [tu.keystr(p) for p, _ in tu.tree_leaves_with_path(tree)]
    ref = [jtu.keystr(p) for p, _ in jtu.tree_leaves_with_path(tree)]
    assert got == ref and "['foo']['bar']['bat'][0]" in got and "['k'].w" in got and "['p'].w" in got
    assert [tu.keystr(p, simple=True, separator="/") for p, _ in tu.tree_leaves_with_path(tree)] == \
        [jtu.keystr(p, simple=True, separator="/") for p, _ in jtu.tree_leaves_with_path(tree)]
    assert tu.keystr((tu.DictKey("a"), tu.SequenceKey(0), tu.GetAttrKey("w"), tu.FlattenedIndexKey(2))) == \
        jtu.keystr((jtu.DictKey("a"), jtu.SequenceKey(0), jtu.GetAttrKey("w"), jtu.FlattenedIndexKey(2)))
    # is_leaf taking the path
    pred = lambda p, x: len(p) == 1 and isinstance(x, (list, tuple))  # noqa: E731
    t2 = {"a": [1, 2], "b": ([3],)}
    got = tu.tree_flatten_with_path(t2, is_leaf=pred, is_leaf_takes_path=True)
    ref = jtu.tree_flatten_with_path(t2, is_leaf=pred, is_leaf_takes_path=True)
    assert [(repr(p), x) for p, x in got[0]] == [(repr(p), x) for p, x in ref[0]] and repr(got[1]) == repr(ref[1])
    assert tu.tree_map_with_path(lambda p, x: len(p), t2, is_leaf=lambda x: isinstance(x, list)) == \
        jtu.tree_map_with_path(lambda p, x: len(p), t2, is_leaf=lambda x: isinstance(x, list))


def test_tree_namespace():
    t = {"a": [1, 2], "b": (3,)}
    names = ["all", "broadcast", "flatten", "flatten_with_path", "leaves", "leaves_with_path", "map",
             "map_with_path", "reduce", "reduce_associative", "static", "structure", "transpose", "unflatten"]
    for n in names:
        assert hasattr(xf.tree, n), n
    assert xf.tree.map(lambda x: x * 2, t) == jax.tree.map(lambda x: x * 2, t)
    assert xf.tree.leaves(t) == jax.tree.leaves(t)
    assert repr(xf.tree.structure(t)) == repr(jax.tree.structure(t))
    leaves, td = xf.tree.flatten(t)
    assert xf.tree.unflatten(td, leaves) == t
    assert xf.tree.reduce(operator.add, t) == 6 and xf.tree.reduce(operator.add, t, 1) == 7
    assert xf.tree.all(t)
    assert [tu.keystr(p) for p, _ in xf.tree.leaves_with_path(t)] == ["['a'][0]", "['a'][1]", "['b'][0]"]
    assert xf.tree.map_with_path(lambda p, x: x, t) == t
    assert xf.tree.flatten_with_path(t)[0][0][1] == 1
    assert xf.tree.transpose(xf.tree.structure([0, 0]), None, [(1, 2), (3, 4)]) == ([1, 3], [2, 4])

    @tu.register_dataclass
    @dataclasses.dataclass
    class WithStatic:
        x: object
        op: str = xf.tree.static(default="add")

    assert tu.tree_leaves(WithStatic(5)) == [5]
    assert "CustomNode(WithStatic[('add',)], [*])" in repr(tu.tree_structure(WithStatic(5)))


def test_treedefs_pickle_and_compare():
    import pickle
    for tree in [{"a": [1, (2, 3)], "b": None}, collections.OrderedDict(a=1, b=(2,)), NT(1, 2)]:
        t = tu.tree_structure(tree)
        back = pickle.loads(pickle.dumps(t))
        assert back == t and hash(back) == hash(t) and repr(back) == repr(t)
    assert tu.tree_structure([1, 2]) != tu.tree_structure((1, 2))
    assert tu.tree_structure(Point(1, 2, "a")) != tu.tree_structure(Point(1, 2, "b"))


def test_register_static():
    @tu.register_static
    class Cfg(str):
        pass

    assert tu.tree_leaves([Cfg("a"), 1]) == [1]
    f = xf.jit(lambda x, c: x + 1 if c == "add" else x - 1)
    np.testing.assert_array_equal(f(xnp.ones(2), Cfg("add")), np.full(2, 2.0, np.float32))
    np.testing.assert_array_equal(f(xnp.ones(2), Cfg("sub")), np.zeros(2, np.float32))


def test_partial():
    add_one = tu.Partial(xnp.add, 1.0)
    jadd_one = jtu.Partial(jnp.add, 1.0)
    assert tu.tree_leaves(add_one) == [1.0]
    assert tu.tree_structure(add_one).num_leaves == 1
    call = xf.jit(lambda f, x: f(x))
    np.testing.assert_allclose(call(add_one, xnp.arange(3.0)), np.asarray(jax.jit(lambda f, x: f(x))(jadd_one, jnp.arange(3.0))))
    # a Partial of a functools.partial keeps only its own arguments as leaves
    inner = functools.partial(lambda a, b, c: a * b + c, 2.0)
    p = tu.Partial(inner, 3.0)
    assert tu.tree_leaves(p) == [3.0] == jtu.tree_leaves(jtu.Partial(inner, 3.0))
    assert p(1.0) == 7.0
    # equal partials hash alike: the jit cache is hit, not retraced
    j = xf.jit(lambda f, x: f(x))
    j(tu.Partial(xnp.multiply, xnp.float32(2.0)), xnp.ones(2))
    n = j.trace_count
    j(tu.Partial(xnp.multiply, xnp.float32(3.0)), xnp.ones(2))
    assert j.trace_count == n
    # zero bound arguments: a function as a valid (leafless) argument
    np.testing.assert_allclose(call(tu.Partial(xnp.sin), xnp.zeros(2)), np.zeros(2))
    # grad through the bound leaves
    g = xf.grad(lambda f: f(2.0))(tu.Partial(lambda a, x: a * x * x, 3.0))
    assert isinstance(g, tu.Partial) and float(g.args[0]) == 4.0


# ----------------------------------------------------------------------------- transforms
def _close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def _same(ours, ref, **kw):
    ol, ot = tu.tree_flatten(ours)
    rl, rt = jtu.tree_flatten(ref)
    assert repr(ot) == repr(rt)
    for a, b in zip(ol, rl):
        assert np.asarray(a).dtype == np.asarray(b).dtype
        _close(a, b, **kw)


W = np.linspace(-1, 1, 6).reshape(2, 3).astype(np.float32)
B = np.array([0.1, -0.2, 0.3], np.float32)
X = np.linspace(0, 1, 8).reshape(4, 2).astype(np.float32)


def _loss(np_):
    def loss(p, x):
        h = x @ p.w + p.b
        h = np_.tanh(h) if p.act == "tanh" else np_.maximum(h, 0.0)
        return np_.sum(h * h)
    return loss


def test_custom_nodes_through_jit():
    p = Params(W, B, "tanh")
    f = xf.jit(lambda p: Params(p.w * 2, p.b + 1, p.act))
    out = f(p)
    assert isinstance(out, Params) and out.act == "tanh"
    _same(out, jax.jit(lambda p: Params(p.w * 2, p.b + 1, p.act))(p))
    # meta fields are static: another value retraces, the same one does not
    n = f.trace_count
    f(Params(W, B, "tanh"))
    assert f.trace_count == n
    out = f(Params(W, B, "relu"))
    assert f.trace_count == n + 1 and out.act == "relu"
    # as a static argument (hashable custom nodes) and in nested containers
    g = xf.jit(lambda pt, s: Point(pt.x * s.tag_len, [pt.y[0] + 1], pt.tag), static_argnums=1)

    class S:
        tag_len = 3

        def __hash__(self):
            return 1

        def __eq__(self, o):
            return isinstance(o, S)

    out = g(Point(xnp.ones(2), [xnp.zeros(2)], "t"), S())
    assert isinstance(out, Point) and out.tag == "t" and isinstance(out.y, list)
    _close(out.x, np.full(2, 3.0))
    # a custom node itself as a static argument: hashed as a whole, never flattened
    @dataclasses.dataclass(frozen=True)
    class Cfg:
        scale: float

    tu.register_dataclass(Cfg, data_fields=["scale"], meta_fields=[])
    h = xf.jit(lambda x, c: x * c.scale, static_argnums=1)
    _close(h(xnp.ones(2), Cfg(3.0)), np.full(2, 3.0))
    n = h.trace_count
    _close(h(xnp.ones(2), Cfg(3.0)), np.full(2, 3.0))
    assert h.trace_count == n
    _close(h(xnp.ones(2), Cfg(4.0)), np.full(2, 4.0))
    assert h.trace_count == n + 1
    # and as a dynamic one: its data field is traced (one trace for both values)
    h2 = xf.jit(lambda x, c: x * c.scale)
    _close(h2(xnp.ones(2), Cfg(3.0)), np.full(2, 3.0))
    _close(h2(xnp.ones(2), Cfg(5.0)), np.full(2, 5.0))
    assert h2.trace_count == 1
    _close(xf.jit(lambda k: k.w @ k.b)(Keyed(W, B)), W @ B)
    pr = xf.jit(lambda q: Pair(q.b, q.a))(Pair(xnp.ones(1), xnp.zeros(2)))
    assert isinstance(pr, Pair) and pr.a.shape == (2,)
    e = xf.jit(lambda e: Explicit(e.x * e.n, e.n))(Explicit(xnp.ones(3), 4))
    assert e.n == 4
    _close(e.x, np.full(3, 4.0))


def test_custom_nodes_through_grad_and_jacobians():
    p, jp = Params(W, B, "tanh"), Params(jnp.asarray(W), jnp.asarray(B), "tanh")
    g = xf.grad(_loss(xnp))(p, X)
    rg = jax.grad(_loss(jnp))(jp, X)
    assert isinstance(g, Params) and g.act == "tanh"
    _same(g, rg, rtol=1e-5)
    v, g2 = xf.value_and_grad(_loss(xnp))(Params(W, B, "relu"), X)
    rv, rg2 = jax.value_and_grad(_loss(jnp))(Params(W, B, "relu"), X)
    _close(v, rv, rtol=1e-5)
    _same(g2, rg2, rtol=1e-5)
    # jit of grad: the same
    _same(xf.jit(xf.grad(_loss(xnp)))(p, X), rg, rtol=1e-5)

    def f(pt):
        return xnp.sin(pt.x) * pt.y[0]

    def jf(pt):
        return jnp.sin(pt.x) * pt.y[0]

    pt = Point(np.array([0.1, 0.2], np.float32), [np.array([1.0, 2.0], np.float32)])
    _same(xf.jacfwd(f)(pt), jax.jacfwd(jf)(pt))
    _same(xf.jacrev(f)(pt), jax.jacrev(jf)(pt))
    # a function returning a custom node
    h = lambda x: Pair(x * 2, {"s": x ** 2})  # noqa: E731
    _same(xf.jacrev(h)(np.array([1.0, 3.0], np.float32)), jax.jacrev(h)(np.array([1.0, 3.0], np.float32)))


def test_custom_nodes_through_vmap_with_prefix_axes():
    ws = np.stack([W, 2 * W, -W]).astype(np.float32)
    p = Params(ws, B, "tanh")
    in_axes = (Params(0, None, "tanh"), None)
    got = xf.vmap(_loss(xnp), in_axes=in_axes)(p, X)
    ref = jax.vmap(_loss(jnp), in_axes=in_axes)(p, X)
    _close(got, ref, rtol=1e-5)
    # the whole node mapped, the output a node
    out = xf.vmap(lambda pt: Point(pt.x + pt.y, pt.y, pt.tag))(Point(xnp.ones((3, 2)), xnp.zeros((3, 2))))
    assert isinstance(out, Point) and out.x.shape == (3, 2)
    # per-example gradients: vmap of grad over a custom node argument
    pg = xf.vmap(xf.grad(_loss(xnp)), in_axes=(None, 0))(Params(W, B), X[:, None, :])
    rpg = jax.vmap(jax.grad(_loss(jnp)), in_axes=(None, 0))(Params(W, B), X[:, None, :])
    _same(pg, rpg, rtol=1e-5)
    # an in_axes that is not a prefix: ValueError, and the next good call works
    with pytest.raises(ValueError):
        xf.vmap(_loss(xnp), in_axes=(Point(0, None), None))(p, X)
    _close(xf.vmap(_loss(xnp), in_axes=in_axes)(p, X), ref, rtol=1e-5)


def test_custom_nodes_through_scan_and_cond():
    def step(c, x):
        return Point(c.x + x, c.y * 2, c.tag), Pair(c.x, x)

    def jstep(c, x):
        return Point(c.x + x, c.y * 2, c.tag), Pair(c.x, x)

    init = Point(np.float32(0.0), np.float32(1.0), "s")
    c, ys = xf.jit(lambda i, xs: xl.scan(step, i, xs))(init, np.arange(4, dtype=np.float32))
    rc, rys = jax.lax.scan(jstep, init, np.arange(4, dtype=np.float32))
    assert isinstance(c, Point) and c.tag == "s" and isinstance(ys, Pair)
    _same(c, rc)
    _same(ys, rys)
    out = xl.cond(True, lambda p: Pair(p.b, p.a), lambda p: p, Pair(xnp.ones(2), xnp.zeros(2)))
    assert isinstance(out, Pair)
    _close(out.a, np.zeros(2))
    # grad through a loop carrying a dataclass
    def loss(p):
        q = xl.fori_loop(0, 3, lambda i, q: Params(q.w * 1.5, q.b, q.act), p)
        return xnp.sum(q.w) + xnp.sum(q.b)

    def jloss(p):
        q = jax.lax.fori_loop(0, 3, lambda i, q: Params(q.w * 1.5, q.b, q.act), p)
        return jnp.sum(q.w) + jnp.sum(q.b)

    _same(xf.grad(loss)(Params(W, B)), jax.grad(jloss)(Params(W, B)))
