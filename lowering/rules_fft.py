"""StableHLO lowering of the fft primitive: `stablehlo.fft %x, type = RFFT, length = [8]`."""
from __future__ import annotations

from xlafront.core import register_internal_path
from xlafront.primitives_fft import fft_p, FftType
from xlafront.lowering.emitter import tensor_type
from xlafront.lowering.rules import lowering_rules

register_internal_path(__file__)


def _fft(ctx, x, *, fft_type, fft_lengths):
    a_in, a_out = ctx.avals_in[0], ctx.aval_out
    lengths = ", ".join(str(int(n)) for n in fft_lengths)
    return ctx.emit(f"stablehlo.fft {x}, type = {FftType(fft_type).name}, length = [{lengths}] : "
                    f"({tensor_type(a_in)}) -> {tensor_type(a_out)}")


lowering_rules[fft_p] = _fft
