"""Open a run report in headless Chromium: the DOM after scripts ran, console errors, requests, a screenshot.

``python -m tests.report_browser docs/img/report.png`` (``make report-screenshot``) generates a small
job around Black Friday and saves a screenshot of its report.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# no request may leave the machine: every host name fails to resolve and every proxy connection is refused
OFFLINE = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
# LIVE returns (--dump-dom) once the load event fired; HEADLESS also lets timers of the next 5 s run
LIVE = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
HEADLESS = [*LIVE, "--virtual-time-budget=5000"]
# records errors, console.error calls and resource requests into the DOM, where --dump-dom shows them
PROBE = """<script>
window.__sg = {errors: []};
window.addEventListener('error', e => window.__sg.errors.push(String(e.message)));
const __sgConsoleError = console.error;
console.error = (...a) => { window.__sg.errors.push(a.map(String).join(' ')); __sgConsoleError(...a); };
window.addEventListener('load', () => setTimeout(() => {
  const names = performance.getEntriesByType('resource').map(e => e.name);
  document.body.setAttribute('data-sg-probe', JSON.stringify({errors: window.__sg.errors, resources: names}));
}, 500));
</script>"""
EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I
)


def chromium() -> str | None:
    """The Chromium binary (Debian's ``chromium`` package), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def external_references(html: str) -> list[str]:
    """Tags that would load something from a network address."""
    return [m.group(0) for m in EXTERNAL.finditer(html)]


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), *HEADLESS, *OFFLINE, *args], capture_output=True, text=True, timeout=180)


def dump_dom(report: Path, workdir: Path) -> tuple[str, dict]:
    """The DOM after scripts ran, and what the probe saw: ``{"errors": [...], "resources": [...]}``."""
    probed = workdir / "probed.html"
    probed.write_text(report.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom = _run(["--dump-dom", probed.as_uri()]).stdout
    match = re.search(r"data-sg-probe=\"([^\"]*)\"", dom)
    probe = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&")) if match else {}
    return dom, probe


def screenshot(report: Path, png: Path, width: int = 1100, height: int = 1500) -> None:
    """A PNG of the top of the report, as a reader sees it on opening."""
    _run([f"--screenshot={png}", f"--window-size={width},{height}", report.as_uri()])


def distinct_colours(png: Path) -> int:
    """How many colours the screenshot has (a blank page has one)."""
    from PIL import Image

    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


def _make_screenshot(target: Path) -> None:
    from PIL import Image

    from synthgen_spark.api import generate
    from synthgen_spark.config import JobConfig

    with tempfile.TemporaryDirectory() as folder:
        config = JobConfig.from_mapping(
            {
                "job_name": "black_friday_week",
                "dataset_id": "retail_oltp_small",
                "start_date": "2024-11-18",
                "end_date": "2024-12-08",
                "batch_size": 7,
                "scale_factor": 0.05,
                "output_mode": "parquet",
                "path_format": "nested",
                "output_root": folder,
            }
        )
        report = generate(config, progress=print).report
        raw = Path(folder) / "report.png"
        screenshot(Path(report.html_path), raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(raw) as image:  # 64 colours keep the PNG small enough for the repository
            image.convert("RGB").quantize(colors=64).save(target, optimize=True)
    print(f"screenshot: {target} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    _make_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img/report.png"))
