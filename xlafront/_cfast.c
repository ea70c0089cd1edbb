/* xlafront._cfast: the jit hot path in C (optional; xlafront/api.py falls back to Python).
 *
 * `JitBase` is the base type of `xlafront.api.Jitted`. Its vectorcall does what the Python
 * `Jitted.__call__` does on a hit: every argument positional and exactly an ArrayImpl, no
 * thread tracing, no disable_jit anywhere, then the program is looked up by the arguments'
 * avals in `_c_fast32`/`_c_fast64` (by `config.x64`), run with `execute_sharded(bufs)
 * .consume_with_handlers(h)`, and a single output is made into an ArrayImpl here (its slots
 * filled by their member offsets, as `make_array`). Anything else calls the Python
 * `_call_slow(args, kwargs)` (or `_debug_nans.checked_jit_call` while debug_nans is on), so
 * the semantics stay the Python code's.
 *
 * The global flags are read where Python keeps them (no copy to keep in sync): the lists
 * `core.traced` and `api._dj_entered` (empty: nobody traces / no disable_jit context or
 * debug_nans), `_ThreadLocal.disable_jit` in that class's dict and `x64` in the config
 * object's `__dict__`.
 *
 * A one-entry inline cache per function remembers the last hit: the avals (by identity),
 * the table and its dict version tag. Identical avals in an unchanged dict find the same
 * entry, so a hit costs no aval hashing (ShapedArray.__hash__ is a Python method).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stddef.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030C0000
#define XF_HAVE_DICT_VERSION 1   /* ma_version_tag: deprecated from 3.12 */
#else
#define XF_HAVE_DICT_VERSION 0
#endif

#define IC_MAX 4          /* inline cache for up to this many arguments */
#define STACK_ARGS 8

/* ------------------------------------------------------------------ module state */
static PyObject *g_traced;        /* core.traced (list) */
static PyObject *g_dj_entered;    /* api._dj_entered (list) */
static PyObject *g_dj_type;       /* config._ThreadLocal (its dict holds the global disable_jit) */
static PyObject *g_config_dict;   /* config.config.__dict__ */
static PyObject *g_nans_active;   /* _debug_nans.active (list) */
static PyObject *g_checked_call;  /* _debug_nans.checked_jit_call */
static PyTypeObject *g_array_type; /* ArrayImpl */
static PyTypeObject *g_entry_type; /* api._Entry */
static PyObject *g_collect;       /* runtime.collect_garbage */
static PyObject *g_flatten;       /* tree_util.registry.flatten */
static PyTypeObject *g_ndarray;   /* numpy.ndarray */
static Py_ssize_t off_buf = -1, off_aval = -1, off_npy = -1;
static Py_ssize_t off_e_run, off_e_single, off_e_execute, off_e_handlers, off_e_out_aval, off_e_out_tree,
                  off_e_raw, off_e_out_avals;
static PyObject g_miss_obj;       /* never a Python object: marks "not a hit" */
#define MISS (&g_miss_obj)
static int g_ready = 0;
static unsigned long g_tick = 0;

static PyObject *s_disable_jit, *s_x64, *s_call_slow, *s_consume, *s_unflatten;

#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))

static Py_ssize_t
member_offset(PyObject *type, const char *name)
{
    PyObject *d = PyObject_GetAttrString(type, name);
    if (d == NULL)
        return -1;
    if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        Py_DECREF(d);
        PyErr_Format(PyExc_TypeError, "_cfast: %R.%s is not a slot", type, name);
        return -1;
    }
    PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
    Py_ssize_t off = (m->type == T_OBJECT_EX || m->type == T_OBJECT) ? m->offset : -1;
    Py_DECREF(d);
    if (off < 0)
        PyErr_Format(PyExc_TypeError, "_cfast: %R.%s is not an object slot", type, name);
    return off;
}

/* ------------------------------------------------------------------ JitBase */
enum { TN_LEAF, TN_NONE, TN_TUPLE, TN_LIST, TN_DICT };
struct TNode {
    int kind;
    Py_ssize_t n;      /* children */
    PyObject *keys;    /* TN_DICT: the keys, sorted (jaxlib's order), a tuple; strong */
};
struct Template {
    Py_ssize_t len;
    struct TNode nodes[];
};

static void
tpl_free(PyObject *capsule)
{
    struct Template *t = PyCapsule_GetPointer(capsule, NULL);
    if (t == NULL)
        return;
    for (Py_ssize_t i = 0; i < t->len; i++)
        Py_XDECREF(t->nodes[i].keys);
    PyMem_Free(t);
}
#define TPL_MAX_NODES 4096
#define TPL_MAX_DEPTH 32

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *fast32;
    PyObject *fast64;
    /* inline cache of the last hit */
    PyObject *ic_dict;            /* borrowed: one of fast32/fast64 */
    uint64_t ic_version;
    Py_ssize_t ic_n;              /* -1: empty */
    PyObject *ic_avals[IC_MAX];   /* strong */
    PyObject *ic_entry;           /* strong */
    /* the pytree path: the second-tier table (the state's `cache`), keyed by
     * (treedef, None, x64, *avals), and an inline cache of its last hit */
    PyObject *cache;
    int simple;                   /* no static arguments */
    PyObject *tic_treedef, *tic_avals, *tic_x64, *tic_entry;   /* strong; tic_avals: a tuple */
    uint64_t tic_version;
    /* ... and, where the arguments are built of tuples, lists, dicts with str keys, None and
     * Arrays only, their structure (preorder), matched without flattening */
    PyObject *tpl;                /* a capsule of struct Template; strong */
} JitBase;

/* The caches are replaced by assigning every field first and releasing the old objects
 * after: a release can run Python code (and let another thread in), which must never see
 * a half-written cache. */
static void
ic_clear(JitBase *self)
{
    PyObject *old[IC_MAX + 6];
    for (Py_ssize_t i = 0; i < IC_MAX; i++) {
        old[i] = self->ic_avals[i];
        self->ic_avals[i] = NULL;
    }
    old[IC_MAX] = self->ic_entry;
    old[IC_MAX + 1] = self->tic_treedef;
    old[IC_MAX + 2] = self->tic_avals;
    old[IC_MAX + 3] = self->tic_x64;
    old[IC_MAX + 4] = self->tic_entry;
    old[IC_MAX + 5] = self->tpl;
    self->ic_entry = self->tic_treedef = self->tic_avals = self->tic_x64 = self->tic_entry = NULL;
    self->tpl = NULL;
    self->ic_n = -1;
    self->ic_dict = NULL;
    for (Py_ssize_t i = 0; i < IC_MAX + 6; i++)
        Py_XDECREF(old[i]);
}

/* Record the structure of `obj` into nodes[*len...]; 0 when it has other node types. */
static int
tpl_build(PyObject *obj, struct TNode *nodes, Py_ssize_t *len, int depth)
{
    if (*len >= TPL_MAX_NODES || depth > TPL_MAX_DEPTH)
        return 0;
    struct TNode *nd = &nodes[(*len)++];
    nd->keys = NULL;
    nd->n = 0;
    if (Py_TYPE(obj) == g_array_type) {
        nd->kind = TN_LEAF;
        return 1;
    }
    if (obj == Py_None) {
        nd->kind = TN_NONE;
        return 1;
    }
    if (PyTuple_CheckExact(obj) || PyList_CheckExact(obj)) {
        int tuple = PyTuple_CheckExact(obj);
        nd->kind = tuple ? TN_TUPLE : TN_LIST;
        nd->n = tuple ? PyTuple_GET_SIZE(obj) : PyList_GET_SIZE(obj);
        for (Py_ssize_t i = 0; i < nd->n; i++) {
            PyObject *c = tuple ? PyTuple_GET_ITEM(obj, i) : PyList_GET_ITEM(obj, i);
            if (!tpl_build(c, nodes, len, depth + 1))
                return 0;
        }
        return 1;
    }
    if (PyDict_CheckExact(obj)) {
        PyObject *keys = PyDict_Keys(obj);
        if (keys == NULL)
            return -1;
        Py_ssize_t n = PyList_GET_SIZE(keys);
        for (Py_ssize_t i = 0; i < n; i++)
            if (!PyUnicode_CheckExact(PyList_GET_ITEM(keys, i))) {
                Py_DECREF(keys);
                return 0;
            }
        if (PyList_Sort(keys) < 0) {
            Py_DECREF(keys);
            return -1;
        }
        nd->kind = TN_DICT;
        nd->n = n;
        nd->keys = PyList_AsTuple(keys);
        Py_DECREF(keys);
        if (nd->keys == NULL)
            return -1;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *c = PyDict_GetItemWithError(obj, PyTuple_GET_ITEM(nd->keys, i));
            if (c == NULL)
                return PyErr_Occurred() ? -1 : 0;
            int r = tpl_build(c, nodes, len, depth + 1);
            if (r <= 0)
                return r;
        }
        return 1;
    }
    return 0;
}

/* Match `obj` against the nodes from *pos; leaves' avals must be `avals`' (identity); their
 * buffers go into bufs. 1: match, 0: not, -1: error. */
static int
tpl_match(PyObject *obj, struct TNode *nodes, Py_ssize_t *pos, PyObject *avals, PyObject *bufs,
          Py_ssize_t *k)
{
    struct TNode *nd = &nodes[(*pos)++];
    switch (nd->kind) {
    case TN_LEAF:
        if (Py_TYPE(obj) != g_array_type || SLOT(obj, off_buf) == NULL ||
            SLOT(obj, off_aval) != PyTuple_GET_ITEM(avals, *k))
            return 0;
        PyList_SET_ITEM(bufs, *k, Py_NewRef(SLOT(obj, off_buf)));
        (*k)++;
        return 1;
    case TN_NONE:
        return obj == Py_None;
    case TN_TUPLE:
    case TN_LIST: {
        int tuple = nd->kind == TN_TUPLE;
        if (tuple ? !PyTuple_CheckExact(obj) : !PyList_CheckExact(obj))
            return 0;
        if ((tuple ? PyTuple_GET_SIZE(obj) : PyList_GET_SIZE(obj)) != nd->n)
            return 0;
        for (Py_ssize_t i = 0; i < nd->n; i++) {
            int r = tpl_match(tuple ? PyTuple_GET_ITEM(obj, i) : PyList_GET_ITEM(obj, i), nodes, pos,
                              avals, bufs, k);
            if (r <= 0)
                return r;
        }
        return 1;
    }
    case TN_DICT:
        if (!PyDict_CheckExact(obj) || PyDict_GET_SIZE(obj) != nd->n)
            return 0;
        for (Py_ssize_t i = 0; i < nd->n; i++) {
            PyObject *c = PyDict_GetItemWithError(obj, PyTuple_GET_ITEM(nd->keys, i));
            if (c == NULL)
                return PyErr_Occurred() ? -1 : 0;
            int r = tpl_match(c, nodes, pos, avals, bufs, k);
            if (r <= 0)
                return r;
        }
        return 1;
    }
    return 0;
}

/* The slow path: `self._call_slow(args, kwargs)`, or the debug_nans checked call. */
static PyObject *
call_rest(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t nk = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    PyObject *tup = PyTuple_New(nargs);
    if (tup == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < nargs; i++)
        PyTuple_SET_ITEM(tup, i, Py_NewRef(args[i]));
    PyObject *kw = PyDict_New();
    if (kw == NULL) {
        Py_DECREF(tup);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nk; i++) {
        if (PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) {
            Py_DECREF(tup);
            Py_DECREF(kw);
            return NULL;
        }
    }
    PyObject *res;
    if (g_nans_active != NULL && PyList_GET_SIZE(g_nans_active) != 0) {
        PyObject *stack[3] = {self, tup, kw};
        res = PyObject_Vectorcall(g_checked_call, stack, 3, NULL);
    }
    else {
        PyObject *stack[3] = {self, tup, kw};
        res = PyObject_VectorcallMethod(s_call_slow, stack, 3, NULL);
    }
    Py_DECREF(tup);
    Py_DECREF(kw);
    return res;
}

/* 1: the hot path may run; 0: not; -1: error. *table: the table of this x64 mode. */
static int
hot_path_open(JitBase *self, PyObject **table, PyObject **x64_out)
{
    if (PyList_GET_SIZE(g_traced) != 0 || PyList_GET_SIZE(g_dj_entered) != 0)
        return 0;
    PyObject *dj = PyDict_GetItemWithError(((PyTypeObject *)g_dj_type)->tp_dict, s_disable_jit);
    if (dj != Py_False) {
        if (dj == NULL) {
            if (PyErr_Occurred())
                return -1;
            return 0;
        }
        int t = PyObject_IsTrue(dj);
        if (t != 0)
            return t < 0 ? -1 : 0;
    }
    PyObject *x64 = PyDict_GetItemWithError(g_config_dict, s_x64);
    int on;
    if (x64 == Py_False)
        on = 0;
    else if (x64 == Py_True)
        on = 1;
    else if (x64 == NULL)
        return PyErr_Occurred() ? -1 : 0;
    else if ((on = PyObject_IsTrue(x64)) < 0)
        return -1;
    *x64_out = x64;
    *table = on ? self->fast64 : self->fast32;
    return *table != NULL && PyDict_CheckExact(*table);
}

static PyObject *finish_outs(PyObject *entry, PyObject *outs);

/* Several outputs: jaxlib's own arrays, each made an ArrayImpl here (as array_maker). */
static PyObject *
run_raw(PyObject *entry, PyObject *execute, PyObject *bufs, PyObject *raw, PyObject *oavals)
{
    PyObject *res = PyObject_CallOneArg(execute, bufs);
    if (res == NULL)
        return NULL;
    PyObject *bs = PyObject_CallMethodOneArg(res, s_consume, raw);
    Py_DECREF(res);
    if (bs == NULL)
        return NULL;
    if (!PyList_CheckExact(bs) || PyList_GET_SIZE(bs) != PyTuple_GET_SIZE(oavals)) {
        Py_DECREF(bs);
        PyErr_SetString(PyExc_RuntimeError, "_cfast: outputs and their avals differ in number");
        return NULL;
    }
    Py_ssize_t m = PyList_GET_SIZE(bs);
    PyObject *outs = PyList_New(m);
    if (outs == NULL) {
        Py_DECREF(bs);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *out = g_array_type->tp_alloc(g_array_type, 0);
        if (out == NULL) {
            Py_DECREF(bs);
            Py_DECREF(outs);
            return NULL;
        }
        SLOT(out, off_buf) = Py_NewRef(PyList_GET_ITEM(bs, i));
        SLOT(out, off_aval) = Py_NewRef(PyTuple_GET_ITEM(oavals, i));
        SLOT(out, off_npy) = Py_NewRef(Py_None);
        PyList_SET_ITEM(outs, i, out);
    }
    Py_DECREF(bs);
    return finish_outs(entry, outs);
}

/* Run a hit: the output as the Python hot path makes it. */
static PyObject *
run_entry(PyObject *entry, PyObject *bufs)
{
    PyObject *h = SLOT(entry, off_e_handlers);
    PyObject *outs;
    if (h == NULL || h == Py_None) {
        PyObject *run = SLOT(entry, off_e_run);
        if (run == NULL) {
            PyErr_SetString(PyExc_AttributeError, "_Entry.run");
            return NULL;
        }
        outs = PyObject_CallOneArg(run, bufs);
    }
    else {
        if (((++g_tick) & 1023) == 0) {
            PyObject *r = PyObject_CallNoArgs(g_collect);
            if (r == NULL)
                return NULL;
            Py_DECREF(r);
        }
        PyObject *execute = SLOT(entry, off_e_execute);
        if (execute == NULL) {
            PyErr_SetString(PyExc_AttributeError, "_Entry.execute");
            return NULL;
        }
        PyObject *raw = SLOT(entry, off_e_raw), *oavals = SLOT(entry, off_e_out_avals);
        if (raw != NULL && raw != Py_None && oavals != NULL && PyTuple_CheckExact(oavals))
            return run_raw(entry, execute, bufs, raw, oavals);
        PyObject *res = PyObject_CallOneArg(execute, bufs);
        if (res == NULL)
            return NULL;
        outs = PyObject_CallMethodOneArg(res, s_consume, h);
        Py_DECREF(res);
        if (outs == NULL)
            return NULL;
        PyObject *out_aval = SLOT(entry, off_e_out_aval);
        if (out_aval != NULL && out_aval != Py_None) {
            PyObject *b = PySequence_GetItem(outs, 0);
            Py_DECREF(outs);
            if (b == NULL)
                return NULL;
            PyObject *out = g_array_type->tp_alloc(g_array_type, 0);
            if (out == NULL) {
                Py_DECREF(b);
                return NULL;
            }
            SLOT(out, off_buf) = b;
            SLOT(out, off_aval) = Py_NewRef(out_aval);
            SLOT(out, off_npy) = Py_NewRef(Py_None);
            return out;
        }
    }
    if (outs == NULL)
        return NULL;
    return finish_outs(entry, outs);
}

/* outs (a new reference, consumed) -> the call's result: one output, or the output tree */
static PyObject *
finish_outs(PyObject *entry, PyObject *outs)
{
    PyObject *single = SLOT(entry, off_e_single);
    PyObject *result;
    if (single == Py_True)
        result = PySequence_GetItem(outs, 0);
    else {
        PyObject *tree = SLOT(entry, off_e_out_tree);
        if (tree == NULL) {
            Py_DECREF(outs);
            PyErr_SetString(PyExc_AttributeError, "_Entry.out_tree");
            return NULL;
        }
        result = PyObject_CallMethodOneArg(tree, s_unflatten, outs);
    }
    Py_DECREF(outs);
    return result;
}

/* The pytree path (what `_call_slow`'s second tier does for a plain call): flatten the
 * positional arguments, every leaf an ArrayImpl, the signature in `cache`. MISS when it
 * does not apply or is not a hit (the caller then runs `_call_slow`). */
static PyObject *
tree_call(JitBase *self, PyObject *const *args, Py_ssize_t n, PyObject *x64)
{
    if (!self->simple || self->cache == NULL || !PyDict_CheckExact(self->cache) || g_flatten == NULL)
        return MISS;
    for (Py_ssize_t i = 0; i < n; i++) {   /* scalars and numpy values: the flat-signature path */
        PyTypeObject *t = Py_TYPE(args[i]);
        if (t == &PyFloat_Type || t == &PyLong_Type || t == &PyBool_Type || t == &PyComplex_Type ||
            t == g_ndarray)
            return MISS;
    }
#if XF_HAVE_DICT_VERSION
    if (self->tpl != NULL && self->tic_x64 == x64 &&
        self->tic_version == ((PyDictObject *)self->cache)->ma_version_tag &&
        ((struct Template *)PyCapsule_GetPointer(self->tpl, NULL))->nodes[0].n == n) {
        /* own references: a dict lookup below may run a key's __eq__ (Python) */
        PyObject *tpl = Py_NewRef(self->tpl), *tavals = Py_NewRef(self->tic_avals),
                 *tentry = Py_NewRef(self->tic_entry);
        struct TNode *nodes = ((struct Template *)PyCapsule_GetPointer(tpl, NULL))->nodes;
        Py_ssize_t m = PyTuple_GET_SIZE(tavals), pos = 1, k = 0;
        PyObject *tb = PyList_New(m), *res = MISS;
        int r = tb == NULL ? -1 : 1;
        for (Py_ssize_t i = 0; i < n && r > 0; i++)
            r = tpl_match(args[i], nodes, &pos, tavals, tb, &k);
        if (r < 0)
            res = NULL;
        else if (r > 0 && k == m)
            res = run_entry(tentry, tb);
        if (tb != NULL && res == MISS)   /* the list holds NULLs past k: fill them first */
            for (Py_ssize_t i = k; i < m; i++)
                PyList_SET_ITEM(tb, i, Py_NewRef(Py_None));
        Py_XDECREF(tb);
        Py_DECREF(tpl);
        Py_DECREF(tavals);
        Py_DECREF(tentry);
        if (res != MISS)
            return res;
    }
#endif
    PyObject *tup = PyTuple_New(n);
    if (tup == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(tup, i, Py_NewRef(args[i]));
    PyObject *fl = PyObject_CallOneArg(g_flatten, tup);
    if (fl == NULL) {
        Py_DECREF(tup);
        return NULL;
    }
    PyObject *leaves, *treedef, *entry = NULL, *bufs = NULL, *result = MISS;
    if (!PyTuple_CheckExact(fl) || PyTuple_GET_SIZE(fl) != 2 ||
        !PyList_CheckExact(leaves = PyTuple_GET_ITEM(fl, 0))) {
        Py_DECREF(fl);
        Py_DECREF(tup);
        return MISS;
    }
    treedef = PyTuple_GET_ITEM(fl, 1);
    Py_ssize_t m = PyList_GET_SIZE(leaves);
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *a = PyList_GET_ITEM(leaves, i);
        if (Py_TYPE(a) != g_array_type || SLOT(a, off_aval) == NULL || SLOT(a, off_buf) == NULL)
            goto done;
    }
#if XF_HAVE_DICT_VERSION
    uint64_t version = ((PyDictObject *)self->cache)->ma_version_tag;
    if (self->tic_entry != NULL && self->tic_x64 == x64 && self->tic_version == version &&
        PyTuple_GET_SIZE(self->tic_avals) == m) {
        Py_ssize_t i = 0;
        for (; i < m; i++)
            if (PyTuple_GET_ITEM(self->tic_avals, i) != SLOT(PyList_GET_ITEM(leaves, i), off_aval))
                break;
        if (i == m) {
            PyObject *ttd = Py_NewRef(self->tic_treedef), *tentry = Py_NewRef(self->tic_entry);
            int eq = PyObject_RichCompareBool(ttd, treedef, Py_EQ);
            Py_DECREF(ttd);
            if (eq > 0)
                entry = tentry;
            else
                Py_DECREF(tentry);
            if (eq < 0) {
                result = NULL;
                goto done;
            }
        }
    }
#endif
    if (entry == NULL) {
        PyObject *key = PyTuple_New(m + 3);
        if (key == NULL) {
            result = NULL;
            goto done;
        }
        PyTuple_SET_ITEM(key, 0, Py_NewRef(treedef));
        PyTuple_SET_ITEM(key, 1, Py_NewRef(Py_None));
        PyTuple_SET_ITEM(key, 2, Py_NewRef(x64));
        for (Py_ssize_t i = 0; i < m; i++)
            PyTuple_SET_ITEM(key, i + 3, Py_NewRef(SLOT(PyList_GET_ITEM(leaves, i), off_aval)));
        entry = PyDict_GetItemWithError(self->cache, key);
        Py_DECREF(key);
        if (entry == NULL) {
            if (PyErr_Occurred()) {
                if (!PyErr_ExceptionMatches(PyExc_TypeError)) {
                    result = NULL;
                    goto done;
                }
                PyErr_Clear();
            }
            goto done;
        }
        Py_INCREF(entry);
        if (Py_TYPE(entry) != g_entry_type)
            goto done;
#if XF_HAVE_DICT_VERSION
        PyObject *avals = PyTuple_New(m);
        if (avals == NULL) {
            result = NULL;
            goto done;
        }
        for (Py_ssize_t i = 0; i < m; i++)
            PyTuple_SET_ITEM(avals, i, Py_NewRef(SLOT(PyList_GET_ITEM(leaves, i), off_aval)));
        /* the structure, where it is made of builtin containers; checked against jaxlib's
         * flatten (same leaves, same order) before it is trusted */
        struct Template *t = PyMem_Malloc(sizeof(struct Template) + sizeof(struct TNode) * TPL_MAX_NODES);
        if (t == NULL) {
            Py_DECREF(avals);
            result = PyErr_NoMemory();
            goto done;
        }
        struct TNode *nodes = t->nodes;
        Py_ssize_t len = 0;
        int ok = tpl_build(tup, nodes, &len, 0);
        if (ok > 0) {   /* the leaves in preorder must be flatten's */
            Py_ssize_t pos = 1, k = 0;
            PyObject *tb = PyList_New(m);
            int r = 1;
            if (tb == NULL)
                ok = -1;
            else {
                for (Py_ssize_t i = 0; i < n && r > 0; i++)
                    r = tpl_match(args[i], nodes, &pos, avals, tb, &k);
                for (Py_ssize_t i = k; i < m; i++)
                    PyList_SET_ITEM(tb, i, Py_NewRef(Py_None));
                ok = r < 0 ? -1 : (r > 0 && k == m && pos == len);
                for (Py_ssize_t i = 0; ok > 0 && i < m; i++)
                    if (PyList_GET_ITEM(tb, i) != SLOT(PyList_GET_ITEM(leaves, i), off_buf))
                        ok = 0;
                Py_DECREF(tb);
            }
        }
        t->len = len;
        PyObject *cap = NULL;
        if (ok > 0) {
            struct Template *t2 = PyMem_Realloc(t, sizeof(struct Template) + sizeof(struct TNode) * len);
            if (t2 != NULL)
                t = t2;
            cap = PyCapsule_New(t, NULL, tpl_free);
            if (cap == NULL)
                ok = -1;
        }
        if (cap == NULL) {
            for (Py_ssize_t i = 0; i < len; i++)
                Py_XDECREF(t->nodes[i].keys);
            PyMem_Free(t);
            if (ok < 0) {
                Py_DECREF(avals);
                result = NULL;
                goto done;
            }
        }
        PyObject *old[5] = {self->tic_avals, self->tic_treedef, self->tic_x64, self->tic_entry, self->tpl};
        self->tic_avals = avals;
        self->tic_treedef = Py_NewRef(treedef);
        self->tic_x64 = Py_NewRef(x64);
        self->tic_entry = Py_NewRef(entry);
        self->tpl = cap;
        self->tic_version = version;
        for (int i = 0; i < 5; i++)
            Py_XDECREF(old[i]);
#endif
    }
    bufs = PyList_New(m);
    if (bufs == NULL) {
        result = NULL;
        goto done;
    }
    for (Py_ssize_t i = 0; i < m; i++)
        PyList_SET_ITEM(bufs, i, Py_NewRef(SLOT(PyList_GET_ITEM(leaves, i), off_buf)));
    result = run_entry(entry, bufs);
done:
    Py_XDECREF(entry);
    Py_XDECREF(bufs);
    Py_DECREF(fl);
    Py_DECREF(tup);
    return result;
}

static PyObject *
jit_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    JitBase *self = (JitBase *)callable;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (!g_ready || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) != 0))
        return call_rest(callable, args, n, kwnames);
    PyObject *table = NULL, *x64 = NULL;
    int open = hot_path_open(self, &table, &x64);
    if (open < 0)
        return NULL;
    if (!open)
        return call_rest(callable, args, n, kwnames);

    PyObject *avals_stack[STACK_ARGS];
    PyObject **avals = avals_stack;
    if (n > STACK_ARGS) {
        avals = PyMem_Malloc(n * sizeof(PyObject *));
        if (avals == NULL)
            return PyErr_NoMemory();
    }
    PyObject *bufs = NULL, *entry = NULL, *result = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *a = args[i];
        if (Py_TYPE(a) != g_array_type || SLOT(a, off_aval) == NULL || SLOT(a, off_buf) == NULL) {
            result = tree_call(self, args, n, x64);
            if (result != MISS)
                goto done;
            goto slow;
        }
        avals[i] = SLOT(a, off_aval);
    }
    /* the inline cache */
#if XF_HAVE_DICT_VERSION
    if (self->ic_n == n && self->ic_dict == table &&
        self->ic_version == ((PyDictObject *)table)->ma_version_tag) {
        Py_ssize_t i = 0;
        for (; i < n; i++)
            if (self->ic_avals[i] != avals[i])
                break;
        if (i == n)
            entry = Py_NewRef(self->ic_entry);
    }
#endif
    if (entry == NULL) {
        PyObject *key;
        if (n == 1)
            key = Py_NewRef(avals[0]);
        else {
            key = PyTuple_New(n);
            if (key == NULL)
                goto done;
            for (Py_ssize_t i = 0; i < n; i++)
                PyTuple_SET_ITEM(key, i, Py_NewRef(avals[i]));
        }
        entry = PyDict_GetItemWithError(table, key);
        Py_DECREF(key);
        if (entry == NULL) {
            if (PyErr_Occurred()) {
                if (n <= 3 || !PyErr_ExceptionMatches(PyExc_TypeError))
                    goto done;
                PyErr_Clear();
            }
            goto slow;
        }
        Py_INCREF(entry);
        if (Py_TYPE(entry) != g_entry_type)
            goto slow;
#if XF_HAVE_DICT_VERSION
        if (n <= IC_MAX) {
            PyObject *old[IC_MAX + 1];
            uint64_t version = ((PyDictObject *)table)->ma_version_tag;
            for (Py_ssize_t i = 0; i < IC_MAX; i++) {
                old[i] = self->ic_avals[i];
                self->ic_avals[i] = i < n ? Py_NewRef(avals[i]) : NULL;
            }
            old[IC_MAX] = self->ic_entry;
            self->ic_entry = Py_NewRef(entry);
            self->ic_dict = table;
            self->ic_version = version;
            self->ic_n = n;
            for (Py_ssize_t i = 0; i <= IC_MAX; i++)
                Py_XDECREF(old[i]);
        }
#endif
    }
    if (Py_TYPE(entry) != g_entry_type)
        goto slow;
    bufs = PyList_New(n);
    if (bufs == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++)
        PyList_SET_ITEM(bufs, i, Py_NewRef(SLOT(args[i], off_buf)));
    result = run_entry(entry, bufs);
    goto done;

slow:
    result = call_rest(callable, args, n, kwnames);
done:
    Py_XDECREF(entry);
    Py_XDECREF(bufs);
    if (avals != avals_stack)
        PyMem_Free(avals);
    return result;
}

static PyObject *
JitBase_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    JitBase *self = (JitBase *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = jit_vectorcall;
    self->ic_n = -1;
    return (PyObject *)self;
}

static int
JitBase_traverse(JitBase *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fast32);
    Py_VISIT(self->fast64);
    for (Py_ssize_t i = 0; i < IC_MAX; i++)
        Py_VISIT(self->ic_avals[i]);
    Py_VISIT(self->ic_entry);
    Py_VISIT(self->cache);
    Py_VISIT(self->tic_treedef);
    Py_VISIT(self->tic_avals);
    Py_VISIT(self->tic_x64);
    Py_VISIT(self->tic_entry);
    Py_VISIT(self->tpl);
    return 0;
}

static int
JitBase_clear(JitBase *self)
{
    Py_CLEAR(self->fast32);
    Py_CLEAR(self->fast64);
    Py_CLEAR(self->cache);
    ic_clear(self);
    return 0;
}

static void
JitBase_dealloc(JitBase *self)
{
    PyObject_GC_UnTrack(self);
    JitBase_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
JitBase_set_tables(JitBase *self, PyObject *args)
{
    PyObject *f32, *f64, *cache;
    int simple;
    if (!PyArg_ParseTuple(args, "O!O!O!p:_c_set_tables", &PyDict_Type, &f32, &PyDict_Type, &f64,
                          &PyDict_Type, &cache, &simple))
        return NULL;
    Py_XSETREF(self->fast32, Py_NewRef(f32));
    Py_XSETREF(self->fast64, Py_NewRef(f64));
    Py_XSETREF(self->cache, Py_NewRef(cache));
    self->simple = simple;
    ic_clear(self);
    Py_RETURN_NONE;
}

static PyMethodDef JitBase_methods[] = {
    {"_c_set_tables", (PyCFunction)JitBase_set_tables, METH_VARARGS,
     "_c_set_tables(fast32, fast64, cache, simple): the hot path's tables (the function's state)."},
    {NULL}
};

static PyTypeObject JitBase_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "xlafront._cfast.JitBase",
    .tp_basicsize = sizeof(JitBase),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
                Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "The jit hot path in C (xlafront/_cfast.c).",
    .tp_new = JitBase_new,
    .tp_dealloc = (destructor)JitBase_dealloc,
    .tp_traverse = (traverseproc)JitBase_traverse,
    .tp_clear = (inquiry)JitBase_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(JitBase, vectorcall),
    .tp_methods = JitBase_methods,
};


/* ------------------------------------------------------------------ eager one-operand ops
 * `eager1(prim, x)`: what `prim.bind(x)` does on the eager hot path (dispatch.apply_primitive
 * with a program compiled before for (prim, x.aval) and no params), for the numpy layer's
 * float-valued unary functions; None when it does not apply (the caller then runs its
 * Python path). A hit is remembered in a small direct-mapped table by (prim, aval) identity,
 * valid while `dispatch._eager_cache` (read from the module each call: tests replace it) is
 * the same dict, unchanged (its version tag). */
#define EC_SIZE 256
typedef struct {
    PyObject *prim, *aval, *cache, *hit;   /* strong; hit: (execute, handlers, out_aval) */
    uint64_t version;
} EagerSlot;
static EagerSlot g_eager[EC_SIZE];
static PyObject *g_dispatch_dict;   /* dispatch module's globals */
static PyObject *g_inexact;         /* the dtypes the caller's fast path takes */
static PyObject *s_eager_cache, *s_multiple_results, *s_dtype;

static PyObject *
cf_eager1(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "eager1(prim, x)");
        return NULL;
    }
    PyObject *prim = args[0], *x = args[1];
    if (g_dispatch_dict == NULL || !g_ready || Py_TYPE(x) != g_array_type ||
        PyList_GET_SIZE(g_traced) != 0 || PyList_GET_SIZE(g_nans_active) != 0)
        Py_RETURN_NONE;
    PyObject *aval = SLOT(x, off_aval), *buf = SLOT(x, off_buf);
    if (aval == NULL || buf == NULL)
        Py_RETURN_NONE;
    PyObject *cache = PyDict_GetItemWithError(g_dispatch_dict, s_eager_cache);
    if (cache == NULL || !PyDict_CheckExact(cache)) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
#if XF_HAVE_DICT_VERSION
    uint64_t version = ((PyDictObject *)cache)->ma_version_tag;
    size_t i = (((uintptr_t)prim >> 4) * 31u ^ ((uintptr_t)aval >> 4)) & (EC_SIZE - 1);
    EagerSlot *slot = &g_eager[i];
    PyObject *hit;
    if (slot->prim == prim && slot->aval == aval && slot->cache == cache && slot->version == version) {
        hit = slot->hit;
    }
    else {
        /* only where the caller's Python path would bind `prim` on x as it is */
        PyObject *mr = PyObject_GetAttr(prim, s_multiple_results);
        if (mr == NULL)
            return NULL;
        Py_DECREF(mr);
        if (mr != Py_False)
            Py_RETURN_NONE;
        PyObject *dt = PyObject_GetAttr(aval, s_dtype);
        if (dt == NULL)
            return NULL;
        int ok = PySequence_Contains(g_inexact, dt);
        Py_DECREF(dt);
        if (ok <= 0)
            return ok < 0 ? NULL : Py_NewRef(Py_None);
        /* (no Python code runs from the lookup to the slot's update: `hit` is borrowed) */
        PyObject *key = PyTuple_Pack(2, prim, aval);
        if (key == NULL)
            return NULL;
        hit = PyDict_GetItemWithError(cache, key);
        Py_DECREF(key);
        if (hit == NULL) {
            if (PyErr_Occurred())
                return NULL;
            Py_RETURN_NONE;
        }
        if (!PyTuple_CheckExact(hit) || PyTuple_GET_SIZE(hit) != 3 ||
            PyTuple_GET_ITEM(hit, 2) == Py_None || PyTuple_GET_ITEM(hit, 1) == Py_None)
            Py_RETURN_NONE;
        /* `version` is the one read before the lookup: a write by Python code the lookup
         * ran (a __hash__) leaves the slot stale, never wrong */
        PyObject *old[4] = {slot->prim, slot->aval, slot->cache, slot->hit};
        slot->prim = Py_NewRef(prim);
        slot->aval = Py_NewRef(aval);
        slot->cache = Py_NewRef(cache);
        slot->hit = Py_NewRef(hit);
        slot->version = version;
        Py_INCREF(hit);   /* ours, before the old objects are released */
        for (int j = 0; j < 4; j++)
            Py_XDECREF(old[j]);
        goto have_hit;
    }
    Py_INCREF(hit);
have_hit:;
    PyObject *execute = PyTuple_GET_ITEM(hit, 0), *h = PyTuple_GET_ITEM(hit, 1),
             *out_aval = PyTuple_GET_ITEM(hit, 2);
    if (((++g_tick) & 1023) == 0) {
        PyObject *r = PyObject_CallNoArgs(g_collect);
        if (r == NULL) {
            Py_DECREF(hit);
            return NULL;
        }
        Py_DECREF(r);
    }
    PyObject *bufs = PyList_New(1);
    if (bufs == NULL) {
        Py_DECREF(hit);
        return NULL;
    }
    PyList_SET_ITEM(bufs, 0, Py_NewRef(buf));
    PyObject *res = PyObject_CallOneArg(execute, bufs);
    Py_DECREF(bufs);
    if (res == NULL) {
        Py_DECREF(hit);
        return NULL;
    }
    PyObject *outs = PyObject_CallMethodOneArg(res, s_consume, h);
    Py_DECREF(res);
    if (outs == NULL) {
        Py_DECREF(hit);
        return NULL;
    }
    PyObject *b = PySequence_GetItem(outs, 0);
    Py_DECREF(outs);
    if (b == NULL) {
        Py_DECREF(hit);
        return NULL;
    }
    PyObject *out = g_array_type->tp_alloc(g_array_type, 0);
    if (out == NULL) {
        Py_DECREF(b);
        Py_DECREF(hit);
        return NULL;
    }
    SLOT(out, off_buf) = b;
    SLOT(out, off_aval) = Py_NewRef(out_aval);
    SLOT(out, off_npy) = Py_NewRef(Py_None);
    Py_DECREF(hit);
    return out;
#else
    Py_RETURN_NONE;
#endif
}

static PyObject *
cf_setup_eager(PyObject *mod, PyObject *args)
{
    PyObject *dd, *inexact;
    if (!PyArg_ParseTuple(args, "O!O:setup_eager", &PyDict_Type, &dd, &inexact))
        return NULL;
    Py_XSETREF(g_dispatch_dict, Py_NewRef(dd));
    Py_XSETREF(g_inexact, Py_NewRef(inexact));
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ module functions */
static PyObject *
cf_setup(PyObject *mod, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"traced", "dj_entered", "dj_type", "config_dict", "nans_active",
                             "checked_call", "array_type", "entry_type", "collect_garbage", "flatten",
                             "ndarray_type", NULL};
    PyObject *traced, *dj, *djt, *cfg, *nans, *checked, *at, *et, *coll, *flat, *nd;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!O!O!OO!O!OOO!:setup", kwlist,
                                     &PyList_Type, &traced, &PyList_Type, &dj, &PyType_Type, &djt,
                                     &PyDict_Type, &cfg, &PyList_Type, &nans, &checked,
                                     &PyType_Type, &at, &PyType_Type, &et, &coll, &flat,
                                     &PyType_Type, &nd))
        return NULL;
    Py_ssize_t ob = member_offset(at, "_buf"), oa = member_offset(at, "aval"),
               on = member_offset(at, "_npy");
    if (ob < 0 || oa < 0 || on < 0)
        return NULL;
    Py_ssize_t er = member_offset(et, "run"), es = member_offset(et, "single"),
               ee = member_offset(et, "execute"), eh = member_offset(et, "handlers"),
               eo = member_offset(et, "out_aval"), etr = member_offset(et, "out_tree"),
               erw = member_offset(et, "raw"), eos = member_offset(et, "out_avals");
    if (er < 0 || es < 0 || ee < 0 || eh < 0 || eo < 0 || etr < 0 || erw < 0 || eos < 0)
        return NULL;
    off_e_raw = erw; off_e_out_avals = eos;
    off_buf = ob; off_aval = oa; off_npy = on;
    off_e_run = er; off_e_single = es; off_e_execute = ee; off_e_handlers = eh;
    off_e_out_aval = eo; off_e_out_tree = etr;
    Py_XSETREF(g_traced, Py_NewRef(traced));
    Py_XSETREF(g_dj_entered, Py_NewRef(dj));
    Py_XSETREF(g_dj_type, Py_NewRef(djt));
    Py_XSETREF(g_config_dict, Py_NewRef(cfg));
    Py_XSETREF(g_nans_active, Py_NewRef(nans));
    Py_XSETREF(g_checked_call, Py_NewRef(checked));
    Py_XSETREF(g_array_type, (PyTypeObject *)Py_NewRef(at));
    Py_XSETREF(g_entry_type, (PyTypeObject *)Py_NewRef(et));
    Py_XSETREF(g_collect, Py_NewRef(coll));
    Py_XSETREF(g_flatten, Py_NewRef(flat));
    Py_XSETREF(g_ndarray, (PyTypeObject *)Py_NewRef(nd));
    g_ready = 1;
    Py_RETURN_NONE;
}

/* Python 3.11 does not pass Py_TPFLAGS_HAVE_VECTORCALL on to a subclass defined in Python
 * (3.12 does, where it keeps tp_call): set it on `cls` when it still calls as JitBase does,
 * so that calls skip building an argument tuple. */
static PyObject *
cf_enable_vectorcall(PyObject *mod, PyObject *cls)
{
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &JitBase_Type)) {
        PyErr_SetString(PyExc_TypeError, "enable_vectorcall: a subclass of JitBase");
        return NULL;
    }
    PyTypeObject *t = (PyTypeObject *)cls;
    if (t->tp_call == PyVectorcall_Call && t->tp_vectorcall_offset == JitBase_Type.tp_vectorcall_offset) {
        t->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
        Py_RETURN_TRUE;
    }
    Py_RETURN_FALSE;
}

static PyMethodDef cf_methods[] = {
    {"setup", (PyCFunction)(void (*)(void))cf_setup, METH_VARARGS | METH_KEYWORDS,
     "Give the module the objects the hot path reads (xlafront/api.py calls it once)."},
    {"enable_vectorcall", cf_enable_vectorcall, METH_O, "See _cfast.c."},
    {"eager1", (PyCFunction)(void (*)(void))cf_eager1, METH_FASTCALL,
     "eager1(prim, x): prim.bind(x) on a cached eager program, else None (see _cfast.c)."},
    {"setup_eager", cf_setup_eager, METH_VARARGS,
     "setup_eager(dispatch_globals, inexact_dtypes) (xlafront/numpy/_ufuncs.py calls it)."},
    {NULL}
};

static struct PyModuleDef cf_module = {
    PyModuleDef_HEAD_INIT, "xlafront._cfast", "The jit hot path in C (optional).", -1, cf_methods,
};

PyMODINIT_FUNC
PyInit__cfast(void)
{
    s_disable_jit = PyUnicode_InternFromString("disable_jit");
    s_x64 = PyUnicode_InternFromString("x64");
    s_call_slow = PyUnicode_InternFromString("_call_slow");
    s_consume = PyUnicode_InternFromString("consume_with_handlers");
    s_unflatten = PyUnicode_InternFromString("unflatten");
    s_eager_cache = PyUnicode_InternFromString("_eager_cache");
    s_multiple_results = PyUnicode_InternFromString("multiple_results");
    s_dtype = PyUnicode_InternFromString("dtype");
    if (!s_eager_cache || !s_multiple_results || !s_dtype)
        return NULL;
    if (!s_disable_jit || !s_x64 || !s_call_slow || !s_consume || !s_unflatten)
        return NULL;
    if (PyType_Ready(&JitBase_Type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&cf_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "JitBase", (PyObject *)&JitBase_Type) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
