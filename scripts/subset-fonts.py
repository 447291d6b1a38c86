"""Make the web pages' Vazirmatn: the full fonts cut down to the characters the window writes.

    .venv/bin/python scripts/subset-fonts.py

(fontTools comes with WeasyPrint and brotli, which WOFF2 needs, with whitenoise[brotli]: both
are in the project's dependencies.)

Reads src/panjereh/portal/static/portal/fonts/Vazirmatn-{Regular,Bold}.woff2 (the full fonts,
about 50 KB each; the PDFs keep using them, since a document may print any name) and writes
Vazirmatn-{Regular,Bold}-subset.woff2 beside them (about 21 KB each) with fontTools'
pyftsubset: Persian (the Arabic letters Persian and the registries' data use, Persian and
Arabic-Indic digits and their separators, the zero-width non-joiner and the direction marks)
plus Latin (ASCII, Latin-1 and the common punctuation). The OpenType layout features pyftsubset
keeps by default (the Arabic joining forms init/medi/fina/isol, marks, ligatures, kerning)
are kept, so words join as before. portal.css declares the same ranges as each face's
unicode-range: a character outside them is drawn by the next font of the stack.

Run it again after changing UNICODE_RANGES (and copy the ranges into portal.css); commit the
written files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FONTS = Path(__file__).resolve().parent.parent / "src/panjereh/portal/static/portal/fonts"
WEIGHTS = ("Regular", "Bold")

# Persian: Arabic comma, semicolon and question mark; hamza to ghain; tatweel, feh to the
# vowel marks and hamza above; Arabic-Indic digits, percent, decimal and thousands separators;
# superscript alef, alef wasla; peh, tcheh, jeh, keheh, gaf, heh doachashmee, heh with yeh,
# Farsi yeh, ae; Persian digits; ZWNJ, ZWJ, LRM, RLM; the rial sign.
PERSIAN = (
    "U+060C,U+061B,U+061F,U+0621-063A,U+0640-0655,U+0660-066C,U+0670-0671,U+067E,U+0686,"
    "U+0698,U+06A9,U+06AF,U+06BE,U+06C0,U+06CC,U+06D5,U+06F0-06F9,U+200C-200F,U+FDFC"
)
# Latin: ASCII, the Latin-1 signs (no-break space, « », §, ·, ×, ÷; no accented letters), dashes, quotation marks,
# bullet, ellipsis, single guillemets, minus (Vazirmatn has no arrows).
LATIN = (
    "U+0020-007E,U+00A0-00BF,U+00D7,U+00F7,U+2010-2014,U+2018-201E,U+2022,U+2026,U+2039-203A,U+2212"
)
UNICODE_RANGES = f"{PERSIAN},{LATIN}"


def main() -> int:
    for weight in WEIGHTS:
        source = FONTS / f"Vazirmatn-{weight}.woff2"
        target = FONTS / f"Vazirmatn-{weight}-subset.woff2"
        subprocess.run(  # noqa: S603 (our own arguments)
            [
                sys.executable,
                "-m",
                "fontTools.subset",
                str(source),
                f"--unicodes={UNICODE_RANGES}",
                "--flavor=woff2",
                "--no-hinting",
                "--desubroutinize",
                "--name-IDs=*",  # the names, with the licence's, kept as the OFL asks
                f"--output-file={target}",
            ],
            check=True,
        )
        print(f"{target.name}: {source.stat().st_size} -> {target.stat().st_size} bytes")
    print("unicode-range:", UNICODE_RANGES.replace(",", ", "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
