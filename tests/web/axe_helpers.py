"""Accessibility check and screenshots for the browser tests: axe-core 4.14.1 (MPL-2.0, from
the npm registry, vendored in tests/web/vendor and used only by the tests) run in the page,
and full-page screenshots saved under ``$ALLPATH_ARTIFACTS`` (default ``tests/artifacts``,
git-ignored)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["ARTIFACTS", "AXE", "_axe", "_screenshot"]

HERE = Path(__file__).parent
AXE = HERE / "vendor" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("ALLPATH_ARTIFACTS") or HERE.parent / "artifacts")


def _screenshot(d: Any, name: str) -> None:
    """The whole page (not only the window) as ``<name>.png`` under the artifact folder."""
    import base64

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = d.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 12000),
                 "scale": 1}})
    (ARTIFACTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def _axe(d: Any, name: str) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations on the page as it is now; the page's
    screenshot is saved as ``<name>.png``."""
    _screenshot(d, name)
    d.execute_script(AXE.read_text(encoding="utf-8"))
    result = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})"
        ".then((r) => done(r.violations.map((v) => ({id: v.id, impact: v.impact, "
        "help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' '))}))))"
        ".catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e), "
        "nodes: []}]));")
    return [v for v in result if v["impact"] in ("serious", "critical")]
