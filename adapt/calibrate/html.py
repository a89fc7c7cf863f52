"""The report as one self-contained HTML file: inline CSS, images as base64 PNG data URIs, no scripts,
no external resource, so it opens offline and can be mailed as it is."""

from __future__ import annotations

import base64
from html import escape

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.name, th.name { text-align: left; }
img { max-width: 100%; display: block; margin: .6em 0; border: 1px solid #ddd; }
.note { color: #555; font-size: .9em; } ul.findings li { margin: .3em 0; }
"""


def image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def table(header: list[str], rows: list[list], name_columns: int = 1) -> str:
    def cell(tag: str, i: int, value) -> str:
        cls = ' class="name"' if i < name_columns else ""
        return f"<{tag}{cls}>{escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def bullet_list(items: list[str], cls: str = "") -> str:
    if not items:
        return "<p class=\"note\">(none)</p>"
    attr = f' class="{cls}"' if cls else ""
    return f"<ul{attr}>" + "".join(f"<li>{escape(s)}</li>" for s in items) + "</ul>"


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """``sections``: (heading, inner HTML already escaped/built with the helpers above)."""
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"]
    for heading, inner in sections:
        parts.append(f"<h2>{escape(heading)}</h2>{inner}")
    parts.append("</body></html>\n")
    return "\n".join(parts)
