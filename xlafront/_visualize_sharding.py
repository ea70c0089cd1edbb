"""`jax.debug.visualize_array_sharding` / `visualize_sharding` as plain text.

JAX draws the grid with `rich` (a table with square box lines when it prints without
colour, which is what it does when stdout is not a terminal or matplotlib is missing).
This module draws the same grid itself, with the same sizes: each block of the array is a
cell labelled with its platform and the ids of the devices that hold it ("CPU 0,2"), the
cell's width and height proportional to the block's share of the array (the array's
aspect ratio taken into account, a character counted 2.5 times as tall as wide), at
least `min_width` wide, centred in its column. Where the table is wider than
`max_width`, columns shrink down to their labels (rich wraps the labels away instead).
"""
from __future__ import annotations

import builtins

__all__ = ["visualize_sharding", "sharding_text"]

_HEIGHT_TO_WIDTH = 2.5


def _block(shape, index):
    """(start, size) per dimension of one device's block."""
    out = []
    for d, s in zip(shape, index):
        if isinstance(s, slice):
            start, stop, _ = s.indices(d)
        else:
            start, stop = int(s), int(s) + 1
        out.append((start, stop - start))
    return out


def sharding_text(shape, sharding, *, scale=1.0, min_width=9, max_width=80) -> str:
    shape = tuple(int(d) for d in shape)
    if len(shape) not in (1, 2):
        raise ValueError("`visualize_sharding` only works for shapes with 1 and 2 dimensions.")
    index_map = sharding.devices_indices_map(shape)
    kind = next(iter(index_map)).platform.upper()
    base_h = int(10 * scale)
    base_w = int(base_h * ((shape[1] if len(shape) == 2 else 1) / shape[0]))
    # blocks by their start along each dimension: which devices, and the block's size
    holders: dict = {}
    sizes: dict = {}
    for dev, index in index_map.items():
        blk = _block(shape, index)
        key = tuple(start for start, _ in blk)
        holders.setdefault(key, set()).add(dev.id)
        if len(shape) == 2:
            sizes[key] = (blk[0][1] / shape[0], blk[1][1] / shape[1])
        else:
            sizes[key] = (None, blk[0][1] / shape[0])
    starts = [sorted({k[i] for k in holders}) for i in range(len(shape))]
    if len(shape) == 1:
        rows, cols = [(0,)], [(s,) for s in starts[0]]
        at = lambda r, c: c   # noqa: E731
    else:
        rows, cols = [(s,) for s in starts[0]], [(s,) for s in starts[1]]
        at = lambda r, c: r + c   # noqa: E731
    # each cell: its label and its padding (top, right, bottom, left), as JAX computes them
    cells = []
    for r in rows:
        line = []
        for c in cols:
            key = at(r, c)
            label = f"{kind} " + ",".join(str(i) for i in sorted(holders[key]))
            h_frac, w_frac = sizes[key]
            width = min(max(int(w_frac * base_w * _HEIGHT_TO_WIDTH), min_width), max_width)
            height = 1 if h_frac is None else int(h_frac * base_h)
            left, rem = divmod(width - len(label) - 2, 2)
            right = left + rem
            top, rem = divmod(height - 2, 2)
            bottom = top + rem
            line.append((label, max(top, 0), max(right, 0), max(bottom, 0), max(left, 0)))
        cells.append(line)
    ncol = len(cols)
    col_w = [max(len(row[j][0]) + row[j][2] + row[j][4] for row in cells) for j in range(ncol)]
    # wider than the console: shrink the widest columns, never below their labels
    floor = [max(len(row[j][0]) for row in cells) for j in range(ncol)]
    while sum(col_w) + ncol + 1 > max_width:
        j = max(range(ncol), key=lambda k: (col_w[k] - floor[k], k))   # ties: the last, as rich
        if col_w[j] <= floor[j]:
            break
        col_w[j] -= 1
    out = ["┌" + "┬".join("─" * w for w in col_w) + "┐"]
    for i, row in enumerate(cells):
        height = max(t + 1 + b for _, t, _, b, _ in row)
        lines = [[] for _ in range(height)]
        for j, (label, top, right, bottom, left) in enumerate(row):
            w = col_w[j]
            pad_l, pad_r = left, right
            while pad_l + pad_r + len(label) > w and (pad_l or pad_r):   # shrunk column
                if pad_r >= pad_l:
                    pad_r -= 1
                else:
                    pad_l -= 1
            room = w - pad_l - pad_r
            extra = room - len(label)
            text = " " * pad_l + " " * (extra // 2) + label + " " * (extra - extra // 2) + " " * pad_r
            for k in range(height):   # top padding, the label, bottom padding, blank below
                lines[k].append(text if k == top else " " * w)
        out += ["│" + "│".join(cols_) + "│" for cols_ in lines]
        if i + 1 < len(cells):
            out.append("├" + "┼".join("─" * w for w in col_w) + "┤")
    out.append("└" + "┴".join("─" * w for w in col_w) + "┘")
    return "\n".join(out)


def visualize_sharding(shape, sharding, *, use_color=True, scale=1.0, min_width=9, max_width=80,
                       color_map=None):
    """Print the grid of which devices hold which block of an array of `shape` laid out by
    `sharding` (`use_color` and `color_map` are accepted; the grid is plain text)."""
    builtins.print(sharding_text(shape, sharding, scale=scale, min_width=min_width,
                                 max_width=max_width))
