"""Draw the installable app's PNG icons from the favicon's design (portal/favicon.svg).

Run once when the mark changes; the PNGs are committed. Pillow draws the same shapes as the SVG
(a rounded teal square, a white window frame with its cross, the yellow pane) at four times the
size and scales down, for smooth edges. The maskable icon fills its whole square with the teal
and keeps the mark inside the central 80% circle that launchers may crop to.

    .venv/bin/python scripts/make-app-icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "src/panjereh/portal/static/portal/icons"
TEAL = "#0b4650"
WHITE = "#ffffff"
YELLOW = "#ffdd00"
SCALE = 4


def draw(size: int, maskable: bool) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), TEAL if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    # The SVG's 40-unit square; a maskable icon draws it in the middle 56% (its corners inside the safe
    # circle of radius 40%).
    unit = big / 40 if not maskable else big * 0.56 / 40
    origin = 0 if not maskable else big * 0.22

    def box(x: float, y: float, w: float, h: float) -> list[float]:
        return [
            origin + x * unit,
            origin + y * unit,
            origin + (x + w) * unit - 1,
            origin + (y + h) * unit - 1,
        ]

    if not maskable:
        pen.rounded_rectangle(box(0, 0, 40, 40), radius=6 * unit, fill=TEAL)
    stroke = round(3 * unit)
    pen.rounded_rectangle(box(3.5, 3.5, 33, 33), radius=3 * unit, outline=WHITE, width=stroke)
    pen.rectangle(box(18.5, 5, 3, 30), fill=WHITE)
    pen.rectangle(box(5, 18.5, 30, 3), fill=WHITE)
    pen.rectangle(box(9, 9, 8, 8), fill=YELLOW)
    return image.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)


if __name__ == "__main__":
    main()
