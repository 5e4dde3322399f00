"""The chart: produced for real (PNG and SVG) and checked to be a non-trivial image."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from rms.cost.model import Profile
from rms.cost.plot import plot_costs
from rms.cost.pricing import RegionPricing
from rms.errors import InvalidInputError
from tests.rms_cli import run_rms

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.slow
def test_cli_plot_png_is_a_real_picture(tmp_path: Path) -> None:
    out = tmp_path / "cost.png"
    result = run_rms(
        "cost", "plot", "--active-hours-per-day", "2", "--acu-when-active", "1",
        "--storage-gb", "20", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout
    width, height = png_size(out)
    assert (width, height) == (1500, 990)
    assert out.stat().st_size > 30_000

    import matplotlib.image

    pixels = matplotlib.image.imread(out)
    # Not blank: many distinct colours (the four curves, text, grid) and real contrast.
    flat = pixels[..., :3].reshape(-1, 3)
    distinct = {tuple(p) for p in (flat[:: max(1, len(flat) // 200_000)] * 255).astype(int)}
    assert len(distinct) > 50
    assert float(pixels[..., :3].std()) > 0.05


def test_plot_svg_has_the_labels(tmp_path: Path, prices: RegionPricing) -> None:
    out = plot_costs(
        Profile(active_hours_per_day=2, acu_when_active=1, storage_gb=20),
        prices,
        tmp_path / "cost.svg",
        mark_profile=True,
    )
    text = out.read_text()
    assert text.startswith("<?xml")
    assert "<svg" in text


def test_plot_does_not_switch_the_global_backend(tmp_path: Path, prices: RegionPricing) -> None:
    import matplotlib

    before = matplotlib.get_backend()
    plot_costs(Profile(2, 1, 20), prices, tmp_path / "c.png")
    assert matplotlib.get_backend() == before


def test_bad_out_suffix_and_directory(tmp_path: Path, prices: RegionPricing) -> None:
    with pytest.raises(InvalidInputError, match=r"--out: file name must end in \.png or \.svg"):
        plot_costs(Profile(2, 1, 20), prices, tmp_path / "cost.pdf")
    result = run_rms(
        "cost", "plot", "--acu-when-active", "1", "--storage-gb", "20",
        "--out", str(tmp_path / "nowhere" / "c.png"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "error: --out: directory" in result.stderr
    assert "Traceback" not in result.output
