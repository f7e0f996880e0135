"""The report as one self-contained HTML page: images as data URIs, inline CSS and script, no
network. Readable on a laptop and a phone (viewport meta, fluid images, scrolling tables)."""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Any

from ganforge.report.collect import RunContents

CSS = """
body{font:16px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
background:#fafafa;overflow-wrap:anywhere}
main{max-width:960px;margin:0 auto;padding:12px 16px 48px}
h1{font-size:1.5em;margin:.6em 0 .2em}h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #ddd;padding-bottom:.2em}
.sub{color:#666;margin:0 0 1em}
img{max-width:100%;height:auto;display:block;margin:8px auto;background:#fff}
img.px{image-rendering:pixelated;width:min(100%,512px)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.9em;margin:6px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,260px),1fr));
gap:0 18px}.grid>div{min-width:0}
.slider{display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.slider input{flex:1;min-width:180px}
.event{background:#fff4e5;border-left:4px solid #f0a020;padding:6px 10px;margin:8px 0}
.event.fatal{background:#fde8e8;border-color:#d33}
code{font-size:.9em}
@media (max-width:600px){body{font-size:15px}main{padding:8px}td,th{padding:2px 5px}}
"""

SCRIPT = """
(function(){
  var frames=JSON.parse(document.getElementById('frames').textContent);
  var slider=document.getElementById('slider'),img=document.getElementById('frame'),
      label=document.getElementById('frame-label');
  function show(){var f=frames[+slider.value];img.src=f.src;label.textContent=f.label;}
  slider.addEventListener('input',show);
})();
"""


def data_uri(png: bytes) -> str:
    """A PNG as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def table(rows: list[tuple[Any, ...]], head: tuple[str, ...]) -> str:
    """An HTML table (escaped), in a horizontally scrolling box for narrow screens."""
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(_text(v))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f'<div class="scroll"><table><tr>{th}</tr>{body}</table></div>'


def _text(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.5g}"
    return "" if v is None else str(v)


def _settings(c: RunContents) -> str:
    """The config and the environment side by side (stacked on a phone)."""
    env = {k: v for k, v in c.meta.items() if k != "data_spec"}
    spec = c.meta.get("data_spec") or {}
    env.update({f"data {k}": v for k, v in spec.items() if v not in (None, [], "")})
    return ('<h2>Config and environment</h2><div class="grid"><div>'
            + table(list(c.config.items()), ("option", "value")) + "</div><div>"
            + table(list(env.items()), ("fact", "value")) + "</div></div>")


def _curves(curve_png: bytes | None) -> str:
    if curve_png is None:
        return "<h2>Losses</h2><p>No loss records in log.jsonl yet.</p>"
    return ("<h2>Losses and D's outputs</h2><p class=sub>Thin: every step; bold: moving "
            "average. Lower panel: D(real) and D(fake) where the model logs them.</p>"
            f'<img alt="loss curves" src="{data_uri(curve_png)}">')


def _frames(c: RunContents) -> str:
    """The sample grids over training, with a slider (the last one shown first)."""
    if not c.frames:
        return "<h2>Samples over training</h2><p>No sample pictures in samples/.</p>"
    items = [{"src": data_uri(f.png), "label": f.label} for f in c.frames]
    last = len(items) - 1
    payload = json.dumps(items).replace("</", "<\\/")
    caption = f"<p class=sub>Each row: {escape(c.figure_caption)}</p>" if c.figure_caption else ""
    return ("<h2>Samples over training</h2>" + caption
            + '<div class="slider"><input type="range" id="slider" min="0" '
            f'max="{last}" value="{last}" step="1" aria-label="training moment">'
            f'<span id="frame-label">{escape(items[last]["label"])}</span></div>'
            f'<img id="frame" class="px" alt="samples" src="{items[last]["src"]}">'
            f'<script type="application/json" id="frames">{payload}</script>')


def _events(c: RunContents) -> str:
    if not c.events:
        return "<h2>Monitor</h2><p>The failure monitor reported nothing.</p>"
    parts = ["<h2>Monitor</h2>"]
    for e in c.events:
        advice = "".join(f"<li>{escape(a)}</li>" for a in e.advice)
        fatal = " fatal" if e.fatal else ""
        parts.append(f'<div class="event{fatal}"><b>step {e.step}: {escape(e.kind)}</b>'
                     f"<p>{escape(e.message)}</p>" + (f"try:<ul>{advice}</ul>" if advice else "")
                     + "</div>")
    return "".join(parts)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _evals(c: RunContents) -> str:
    if not c.evals:
        return ("<h2>Evaluation</h2><p>No evaluation saved in the run folder (run "
                "<code>ganforge eval RUN</code>).</p>")
    parts = ["<h2>Evaluation</h2>"]
    for name, record in c.evals:
        results = [r for r in record["results"] if isinstance(r, dict)]
        rows = [(r.get("metric"), r.get("value"), r.get("n_real"), r.get("n_fake"),
                 r.get("features"), str(r.get("features_sha256") or "none")[:12],
                 r.get("resize_method")) for r in results]
        prov = _mapping(record.get("provenance"))
        facts = ", ".join(f"{k} {prov.get(k)}" for k in ("real", "real_split", "fake", "seed",
                                                        "ganforge_version", "date") if k in prov)
        skipped = _mapping(record.get("skipped"))
        parts.append(f"<p><code>{escape(name)}</code>: {escape(facts)}</p>"
                     + table(rows, ("metric", "value", "n_real", "n_fake", "features",
                                    "sha256", "resize"))
                     + "".join(f"<p class=sub>skipped {escape(str(k))}: {escape(str(v))}</p>"
                               for k, v in skipped.items()))
    return "".join(parts)


def render(c: RunContents, curve_png: bytes | None) -> str:
    """The whole page."""
    title = f"{c.config.get('model')} on {c.config.get('data')}"
    last = c.records[-1]["step"] if c.records else 0
    extra = "".join(f"<h2>{escape(t.capitalize())}</h2><img alt='{escape(t)}' "
                    f"src='{data_uri(png)}'>" for t, png in c.extra_pictures.items())
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width, initial-scale=1">'
            f"<title>ganforge: {escape(title)}</title><style>{CSS}</style></head><body><main>"
            f"<h1>{escape(title)}</h1><p class=sub>{escape(str(c.root))}: {last} steps, "
            f"{len(c.frames)} sample pictures, {len(c.events)} monitor events</p>"
            + _curves(curve_png) + _frames(c) + extra + _events(c) + _evals(c) + _settings(c)
            + f"</main><script>{SCRIPT if c.frames else ''}</script></body></html>\n")
