#!/usr/bin/env python3
"""Draw Bidkit's app icon (a red round seal with a star and 「签」) into src-tauri/icons/.

Developer tool, not part of the build: the PNGs it writes are committed. Needs Pillow
(`pip install pillow`) and a CJK font (Debian's fonts-noto-cjk, installed by scripts/setup).
Run from anywhere: `python3 scripts/dev/gen-icons.py`.
"""

import math
import pathlib

from PIL import Image, ImageDraw, ImageFont

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "src-tauri" / "icons"
FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
RED = (200, 22, 29, 255)
BASE = 1024  # draw large, then downsample for smooth edges


def star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    pts = []
    for i in range(10):
        rad = r if i % 2 == 0 else r * 0.382
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    draw.polygon(pts, fill=RED)


def seal() -> Image.Image:
    img = Image.new("RGBA", (BASE, BASE), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c = BASE / 2
    # white disc behind the seal so it reads on dark panels too
    d.ellipse((24, 24, BASE - 24, BASE - 24), fill=(255, 255, 255, 255))
    # the ring
    d.ellipse((40, 40, BASE - 40, BASE - 40), outline=RED, width=70)
    star(d, c, c - 215, 140)
    font = ImageFont.truetype(FONT, 400, index=0)
    d.text((c, c + 115), "签", font=font, fill=RED, anchor="mm")
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    big = seal()
    for name, size in [
        ("32x32.png", 32),
        ("64x64.png", 64),
        ("128x128.png", 128),
        ("128x128@2x.png", 256),
        ("icon.png", 512),
    ]:
        big.resize((size, size), Image.LANCZOS).save(OUT / name, optimize=True)
    big.resize((256, 256), Image.LANCZOS).save(
        OUT / "icon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]
    )
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
