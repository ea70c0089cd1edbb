"""The lowering-rule table: primitive -> rule `(ctx, *operands, **params) -> result name(s)`.

A leaf module. lowering/rules.py and the family modules (lowering/rules_*.py) register
into it at import, `api_autodiff.py` adds the rules of its own primitives, and
lowering/emitter.py only reads it, so the emitter imports no rule module. The families
are imported by `xlafront/_rules.py` (run by `import xlafront`, before any lowering).
"""
lowering_rules: dict = {}
