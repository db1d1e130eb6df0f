"""Calibration of ``Answer.confidence`` (issue #23): predicted confidence against observed correctness.

"Correct" is the evaluation's own outcome: an answerable question answered with the evidence in a
citation (citation recall), an unanswerable one refused. The figures are the expected calibration error
(ECE, equal-width bins, weighted by the bin's share of answers), the Brier score and the per-bin table
drawn as a reliability diagram (``reliability.png`` beside the report).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BINS = 10


def calibration(pairs: Sequence[tuple[float | None, bool]], bins: int = BINS) -> dict[str, Any] | None:
    """ECE, Brier score and the reliability table of (confidence, correct) pairs; None without any."""
    scored = [(min(1.0, max(0.0, float(p))), bool(ok)) for p, ok in pairs if p is not None]
    if not scored:
        return None
    table: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(p, ok) for p, ok in scored if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if not inside:
            table.append({"lo": round(lo, 2), "hi": round(hi, 2), "n": 0, "confidence": None, "accuracy": None})
            continue
        confidence = sum(p for p, _ in inside) / len(inside)
        accuracy = sum(1.0 for _, ok in inside if ok) / len(inside)
        ece += len(inside) / len(scored) * abs(accuracy - confidence)
        table.append({"lo": round(lo, 2), "hi": round(hi, 2), "n": len(inside), "confidence": round(confidence, 4),
                      "accuracy": round(accuracy, 4)})
    brier = sum((p - (1.0 if ok else 0.0)) ** 2 for p, ok in scored) / len(scored)
    return {
        "n": len(scored),
        "ece": round(ece, 4),
        "brier": round(brier, 4),
        "mean_confidence": round(sum(p for p, _ in scored) / len(scored), 4),
        "accuracy": round(sum(1.0 for _, ok in scored if ok) / len(scored), 4),
        "bins": table,
    }


def render_reliability(calibrations: Mapping[str, Mapping[str, Any]], title: str, path: Path) -> None:
    """A reliability diagram (observed accuracy per confidence bin, one line per configuration, the
    diagonal for perfect calibration) over a histogram of the confidences."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, hist) = plt.subplots(2, 1, figsize=(6.5, 7), height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    width = 1.0 / BINS / max(1, len(calibrations))
    for i, (name, cal) in enumerate(calibrations.items()):
        filled = [b for b in cal["bins"] if b["n"]]
        ax.plot([b["confidence"] for b in filled], [b["accuracy"] for b in filled], marker="o",
                label=f"{name} (n={cal['n']}, ECE {cal['ece']:.3f}, Brier {cal['brier']:.3f})")
        hist.bar([b["lo"] + i * width for b in cal["bins"]], [b["n"] for b in cal["bins"]], width, align="edge",
                 label=name)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("observed correct")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    hist.set_xlabel("predicted confidence")
    hist.set_ylabel("answers")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
