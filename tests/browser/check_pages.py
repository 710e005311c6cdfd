#!/usr/bin/env python3
"""Checks the HTML reports as a browser shows them.

Given the PNG screenshot and the DOM dump Chromium made of a page, and (for a
diff page) the JSON summary of the same run:
- the rendering is not blank: the PNG has many distinct colours and no single
  colour covers the whole picture;
- for a diff page, every count of the transition matrix is in the rendered
  heat map's text, in order, and the totals are in the page.
Uses only the standard library (PNG decoded with zlib).
"""
import json
import re
import struct
import sys
import zlib


def png_pixels(path):
    """Yields the rows of an 8-bit RGB or RGBA PNG, unfiltered."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, width, height, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"unsupported PNG (depth {depth}, colour type {ctype})"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def check_not_blank(path):
    width, height, bpp, rows = png_pixels(path)
    colours = {}
    for row in rows[:: max(1, height // 400)]:
        for x in range(0, width * bpp, bpp * 2):
            px = row[x:x + 3]
            colours[px] = colours.get(px, 0) + 1
    total = sum(colours.values())
    top = max(colours.values())
    assert len(colours) > 50, f"{path}: only {len(colours)} colours: a blank rendering"
    assert top < 0.97 * total, f"{path}: one colour covers {top / total:.0%}: a blank rendering"
    print(f"{path}: {width}x{height}, {len(colours)} colours, background {top / total:.0%}")


def check_matrix(dom_path, summary_path):
    dom = open(dom_path, encoding="utf-8").read()
    summary = json.loads(open(summary_path, encoding="utf-8").read().strip().splitlines()[-1])["summary"]
    heat = dom.split('id="matrix"', 1)[1].split("</svg>", 1)[0]
    shown = [int(n) for n in re.findall(r'font-weight="600"[^>]*>(\d+)</text>', heat)]
    kinds = ["accept", "review", "limited", "reject", "error"]
    expected = [summary["matrix"][a][b] for a in kinds for b in kinds]
    assert shown == expected, f"heat map {shown} != matrix {expected}"
    assert f'id="records">{summary["records"]}<' in dom, "the record count is not on the page"
    assert f'id="changed">{summary["changed"]}<' in dom, "the changed count is not on the page"
    print(f"{dom_path}: the 25 matrix counts and the totals are on the page")


def selftest():
    """The blank check must fail on a blank picture and pass on a varied one."""
    import os
    import tempfile

    def write(path, pixel):
        w, h = 64, 64
        raw = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(w)) for y in range(h))
        chunk = lambda k, d: struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
        png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
        open(path, "wb").write(png)

    d = tempfile.mkdtemp()
    blank, varied = os.path.join(d, "blank.png"), os.path.join(d, "varied.png")
    write(blank, lambda x, y: b"\xff\xff\xff")
    write(varied, lambda x, y: bytes([x * 4, y * 4, (x * y) % 256]))
    try:
        check_not_blank(blank)
    except AssertionError:
        pass
    else:
        sys.exit("selftest: a blank picture passed the blank check")
    check_not_blank(varied)
    print("selftest: the blank check tells a blank picture from a varied one")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "selftest":
        selftest()
    elif mode == "png":
        check_not_blank(sys.argv[2])
    elif mode == "matrix":
        check_matrix(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown mode {mode}")
