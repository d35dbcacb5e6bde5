"""Benchmark of the understanding layer against a plain rapidfuzz baseline.

Run from the repository root: `python bench/nlu.py [--data FILE ...] [--json] [--sweep]`.
Without --data every set is reported: nlu_dev.jsonl (written with the first tuning),
nlu_check.jsonl (written after it), nlu_fresh.jsonl and nlu_fresh2.jsonl (written independently
before later rounds of changes, the best proxies for unseen messages; fresh2 stresses
out-of-scope messages that share words with the domain). Each data line is
`{"text", "intent", "lang"}`; intent "none" marks out-of-scope messages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from bot.nlu import VARIANTS, Understander, identify_language  # noqa: E402
from bot.nlu.knowledge import load_knowledge  # noqa: E402

# Every nlu_*.jsonl set: dev and check first, then the fresh sets by name.
_ORDER = {"nlu_dev.jsonl": 0, "nlu_check.jsonl": 1}
DEFAULT_DATA = sorted(
    (ROOT / "bench").glob("nlu_*.jsonl"), key=lambda p: (_ORDER.get(p.name, 2), p.name)
)
KNOWLEDGE = ROOT / "knowledge"
BASELINE_THRESHOLDS = [x / 100 for x in range(30, 100, 5)]
SWEEP_THRESHOLDS = [x / 100 for x in range(20, 80, 2)]


@dataclass(frozen=True)
class Item:
    text: str
    intent: str
    lang: str


def load_items(path: Path) -> list[Item]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            items.append(Item(row["text"], row["intent"], row["lang"]))
    return items


# A predictor returns (label, score) for a message, before any threshold.
Predictor = Callable[[str], tuple[str, float]]


def baseline_predictor(knowledge_dir: Path) -> Predictor:
    """token_set_ratio of the raw message against every raw example; best example's label."""
    entries = load_knowledge(knowledge_dir)
    choices: list[str] = []
    labels: list[str] = []
    for entry in entries.values():
        for items in entry.examples.values():
            for text in items:
                choices.append(text)
                labels.append(entry.id)

    def predict(text: str) -> tuple[str, float]:
        best = process.extractOne(text, choices, scorer=fuzz.token_set_ratio)
        if best is None:
            return "none", 0.0
        return labels[best[2]], best[1] / 100.0

    return predict


def ours_predictor(understander: Understander) -> Predictor:
    def predict(text: str) -> tuple[str, float]:
        # The full understand() path (emergency words included), with the threshold disabled.
        u = understander.understand(text)
        return u.intent, u.score

    return predict


def run(predict: Predictor, items: list[Item]) -> tuple[list[tuple[str, float]], list[float]]:
    preds: list[tuple[str, float]] = []
    times: list[float] = []
    for item in items:
        start = time.perf_counter()
        preds.append(predict(item.text))
        times.append((time.perf_counter() - start) * 1000.0)
    return preds, times


def score(
    items: list[Item], preds: list[tuple[str, float]], threshold: float
) -> dict[str, float | int]:
    final = [label if s >= threshold else "none" for label, s in preds]
    out: dict[str, float | int] = {"threshold": threshold, "n": len(items)}
    out["accuracy"] = sum(f == i.intent for f, i in zip(final, items, strict=True)) / len(items)
    for variant in VARIANTS:
        pairs = [(f, i) for f, i in zip(final, items, strict=True) if i.lang == variant]
        out[f"acc_{variant}"] = sum(f == i.intent for f, i in pairs) / max(1, len(pairs))
    scoped = [(f, i) for f, i in zip(final, items, strict=True) if i.intent != "none"]
    out["in_scope_acc"] = sum(f == i.intent for f, i in scoped) / max(1, len(scoped))
    oos = [f for f, i in zip(final, items, strict=True) if i.intent == "none"]
    out["oos_none"] = sum(f == "none" for f in oos) / max(1, len(oos))
    emerg = [f for f, i in zip(final, items, strict=True) if i.intent == "emergency"]
    out["emergency_recall"] = sum(f == "emergency" for f in emerg) / max(1, len(emerg))
    return out


def best_threshold(items: list[Item], preds: list[tuple[str, float]], grid: list[float]) -> float:
    return max(grid, key=lambda t: (score(items, preds, t)["accuracy"], -t))


def latency(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": statistics.median(ordered), "p99_ms": p99}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, nargs="+", default=DEFAULT_DATA)
    parser.add_argument("--knowledge", type=Path, default=KNOWLEDGE)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--sweep", action="store_true", help="print accuracy per threshold")
    parser.add_argument("--errors", action="store_true", help="list misclassified messages")
    args = parser.parse_args(argv)

    understander = Understander(args.knowledge)
    ours_threshold = understander.threshold
    understander.threshold = 0.0  # scores are thresholded here, so sweeps reuse one run
    baseline = baseline_predictor(args.knowledge)
    report: dict[str, dict[str, object]] = {}
    for data in args.data:
        items = load_items(data)
        ours_preds, ours_times = run(ours_predictor(understander), items)
        base_preds, base_times = run(baseline, items)
        # The baseline gets its best threshold on this very set: a generous comparison.
        base_threshold = best_threshold(items, base_preds, BASELINE_THRESHOLDS)

        lang_ok = sum(identify_language(i.text) == i.lang for i in items) / len(items)
        ours = score(items, ours_preds, ours_threshold) | latency(ours_times)
        ours["langid"] = lang_ok
        base = score(items, base_preds, base_threshold) | latency(base_times)
        base["langid"] = sum(i.lang == "fr" for i in items) / len(items)  # it has none: all French

        report[data.name] = {"ours": ours, "baseline": base}
        if not args.json:
            print(f"\ndata: {data.name}  ({len(items)} messages)")
            print(f"{'metric':<20}{'ours':>10}{'baseline':>10}")
            for key in ours:
                a, b = ours[key], base[key]
                fmt = "{:>10.3f}" if isinstance(a, float) else "{:>10}"
                print(f"{key:<20}" + fmt.format(a) + fmt.format(b))
        if args.sweep:
            print("\nthreshold sweep (ours): threshold accuracy in_scope oos_none")
            for t in SWEEP_THRESHOLDS:
                s = score(items, ours_preds, t)
                print(
                    f"  {t:.2f}  {s['accuracy']:.3f}  {s['in_scope_acc']:.3f}  {s['oos_none']:.3f}"
                )
        if args.errors:
            print("\nerrors (ours):")
            for item, (label, s) in zip(items, ours_preds, strict=True):
                final = label if s >= ours_threshold else "none"
                if final != item.intent:
                    print(
                        f"  [{item.lang}] {item.intent} -> {final} ({s:.2f}, {label}): {item.text}"
                    )
            print("\nlanguage errors:")
            for item in items:
                got = identify_language(item.text)
                if got != item.lang:
                    print(f"  {item.lang} -> {got}: {item.text}")
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
