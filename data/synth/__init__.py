"""Synthetic extracts with ground truth for zhibu (直补快办).

``generate(months, scale, seed, out, formats='mixed')`` writes ``out/incoming/<YYYY-MM>/<source>.<ext>``
and ``out/truth/*.parquet``; see ``data/synth/README.md``.
"""
from .generate import generate, parse_months, parse_scale  # noqa: F401
from .noise import NoiseConfig  # noqa: F401


def main(argv=None) -> int:
    from .cli import main as _main
    return _main(argv)
