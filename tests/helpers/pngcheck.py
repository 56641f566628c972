#!/usr/bin/env python3
# A screenshot's layout, checked without a pixel-exact reference (fonts and
# anti-aliasing differ between machines): its size, that it is not blank,
# and that the page's regions are where the stylesheet puts them, by their
# colours. Reads the PNG with zlib alone (8-bit RGB or RGBA, not interlaced:
# what Chromium writes).
#
# Usage: pngcheck.py FILE WIDTH HEIGHT
# Prints one "ok"/"not ok" line per check to stdout as "NAME: ok|FAIL ...".
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG (depth %d type %d)" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, lambda x, y: tuple(rows[y][x * bpp:x * bpp + 3])


def near(c, ref, tol=24):
    return all(abs(a - b) <= tol for a, b in zip(c, ref))


def main():
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w, h, px = read_png(path)
    res = []
    res.append(("size %dx%d" % (want_w, want_h), (w, h) == (want_w, want_h), "%dx%d" % (w, h)))
    colours = {px(x, y) for x in range(0, w, 7) for y in range(0, h, 7)}
    res.append(("not blank (many colours)", len(colours) > 20, "%d colours" % len(colours)))
    # The header bar: dark (#1d2330) across the top 40 pixels.
    bar = [px(x, y) for x in range(600, w, 50) for y in (5, 20, 38)]
    res.append(("header bar dark across the top", all(near(c, (0x1d, 0x23, 0x30)) for c in bar),
                str(bar[:3])))
    # The timeline column: white panel left of x=420, a border line near
    # it, the detail area (#f4f5f7) right of it.
    border = any(near(px(x, h - 5), (0xd5, 0xd9, 0xe0), 6) for x in range(416, 424))
    res.append(("timeline column bordered at x=420", border, str(px(420, h - 5))))
    # (Its top padding: below the bar, above the heading; the right edge
    # may hold a scrollbar.)
    pad = [px(x, 48) for x in range(440, w - 40, 40)]
    res.append(("detail area background right of it",
                all(near(c, (0xf4, 0xf5, 0xf7), 4) for c in pad), str(pad[:3])))
    # A deny: the badge or the highlighted row (reds of the stylesheet).
    reds = sum(1 for x in range(0, w, 2) for y in range(44, h, 2)
               if near(px(x, y), (0xc6, 0x28, 0x28), 30) or near(px(x, y), (0xfd, 0xe3, 0xe3), 6))
    res.append(("a deny is highlighted in red", reds > 30, "%d red samples" % reds))
    # Text in the detail area: dark pixels right of the timeline.
    ink = sum(1 for x in range(430, w, 3) for y in range(50, h, 3) if sum(px(x, y)) < 200)
    res.append(("the detail area has text", ink > 200, "%d dark samples" % ink))
    for name, good, why in res:
        print("%s: %s" % (name, "ok" if good else "FAIL (%s)" % why))
    return 0 if all(g for _, g, _ in res) else 1


if __name__ == "__main__":
    sys.exit(main())
