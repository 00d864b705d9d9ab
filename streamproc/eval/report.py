"""An evaluation run's results as data, JSON, Markdown and a terminal table.

The report holds counts and scores only, never a dialogue text or span value, so it can be
shared and committed (the dev data's licence forbids copying the data itself).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from streamproc.core.taxonomy import PrivacyLevel
from streamproc.eval.leak import LeakTally
from streamproc.eval.metric import Counts, Metrics

REPORTED_LEVELS = (PrivacyLevel.PL2, PrivacyLevel.PL3, PrivacyLevel.PL4)
SEVERE_LEVELS = (PrivacyLevel.PL3, PrivacyLevel.PL4)
MOST_MISSED = 20
PER_MESSAGE_WARNING = (
    "inflated by messages with no gold and no prediction (each scores 1.0); "
    "for comparison with the paper only, never use it alone"
)


@dataclass(frozen=True, slots=True)
class RunInfo:
    file: str
    extractor: str
    extractor_version: str
    roles: str
    sample: int | None
    seed: int
    limit: int | None
    date: str  # ISO 8601, UTC
    n_messages: int
    n_users: int
    wall_s: float
    extract_s: float

    @property
    def ms_per_message(self) -> float:
        return 1000 * self.wall_s / self.n_messages if self.n_messages else 0.0


@dataclass(frozen=True, slots=True)
class EvalReport:
    run: RunInfo
    metrics: Metrics
    leak: LeakTally

    def most_missed(self, n: int = MOST_MISSED) -> list[tuple[str, Counts]]:
        rows = [(t, c) for t, c in self.metrics.by_type.items() if c.n_missed]
        return sorted(rows, key=lambda row: (-row[1].n_missed, row[0]))[:n]

    def to_dict(self) -> dict[str, Any]:
        m, leak = self.metrics, self.leak
        detected = {
            "+".join(lvl.value for lvl in levels): _detected(m, levels)
            for levels in (SEVERE_LEVELS, *((lvl,) for lvl in REPORTED_LEVELS))
        }
        return {
            "run": {**asdict(self.run), "ms_per_message": round(self.run.ms_per_message, 3)},
            "overall": _counts(m.overall),
            "by_level": {lvl.value: _counts(m.by_level.get(lvl, Counts())) for lvl in REPORTED_LEVELS},
            "level_accuracy": {
                "pairs": m.level_pairs,
                "correct": m.level_correct,
                "accuracy": _r(m.level_accuracy),
                "confusion_gold_to_pred": {
                    f"{g.value}->{p.value}": n for (g, p), n in sorted(m.level_confusion.items())
                },
            },
            "detected_any_level": detected,
            "leak": {
                "rate": _r(leak.rate),
                "checked": leak.n_checked,
                "leaked": leak.n_leaked,
                "by_level": {
                    lvl.value: {
                        "checked": leak.checked.get(lvl, 0),
                        "leaked": leak.leaked.get(lvl, 0),
                        "rate": _r(leak.rate_for(lvl)),
                    }
                    for lvl in REPORTED_LEVELS
                },
                "gold_not_in_text": leak.gold_not_in_text,
                "kept_by_policy": leak.kept_by_policy,
            },
            "per_message_average": {
                "precision": _r(m.per_message.precision),
                "recall": _r(m.per_message.recall),
                "f1": _r(m.per_message.f1),
                "messages": m.per_message.n_messages,
                "empty_messages": m.per_message.n_empty,
                "warning": PER_MESSAGE_WARNING,
            },
            "predictions_not_in_text": m.predictions_not_in_text,
            "gold_not_in_text": m.gold_not_in_text,
            "by_type": {t: _counts(c) for t, c in sorted(m.by_type.items())},
            "most_missed_types": [{"type": t, **_counts(c)} for t, c in self.most_missed()],
        }

    def to_markdown(self) -> str:
        run, m, leak = self.run, self.metrics, self.leak
        sample = f"{run.sample} messages (seed {run.seed})" if run.sample is not None else "all"
        _, _, severe = m.detected_share(SEVERE_LEVELS)
        lines = [
            f"# Extraction eval: `{run.file}` with `{run.extractor}` {run.extractor_version}",
            "",
            f"- date: {run.date}; roles: {run.roles}; sample: {sample}; limit: {run.limit or 'none'}",
            f"- {run.n_messages} messages from {run.n_users} users; wall {run.wall_s:.2f} s "
            f"({run.ms_per_message:.2f} ms/message; extraction {run.extract_s:.2f} s)",
            "",
            "## Overall (micro, span level)",
            "",
            "| metric | value |",
            "|---|---|",
            f"| precision | {_pct(m.overall.precision)} |",
            f"| recall | {_pct(m.overall.recall)} |",
            f"| F1 | {_pct(m.overall.f1)} |",
            f"| predictions / gold | {m.overall.n_pred} / {m.overall.n_gold} |",
            f"| level accuracy (text+type matched pairs) | {_pct(m.level_accuracy)} of {m.level_pairs} |",
            f"| PL3+PL4 gold detected at any level/type | {_pct(severe)} |",
            f"| leak rate (DEFAULT policy) | {_pct(leak.rate)} ({leak.n_leaked} of {leak.n_checked}) |",
            f"| gold not in text (not checkable) | {m.gold_not_in_text} |",
            f"| predictions not in text | {m.predictions_not_in_text} |",
            f"| per-message average F1 (paper) | {_pct(m.per_message.f1)} "
            f"— warning: {PER_MESSAGE_WARNING} |",
            "",
            "## Per level",
            "",
            "| level | gold | pred | precision | recall | F1 | detected any level | leak rate |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for lvl in REPORTED_LEVELS:
            c = m.by_level.get(lvl, Counts())
            _, _, share = m.detected_share((lvl,))
            lines.append(
                f"| {lvl.value} | {c.n_gold} | {c.n_pred} | {_pct(c.precision)} | {_pct(c.recall)} "
                f"| {_pct(c.f1)} | {_pct(share)} | {_pct(leak.rate_for(lvl))} |"
            )
        lines += ["", "## Per type", "", *_type_table(sorted(m.by_type.items()))]
        lines += ["", f"## Most missed types (top {MOST_MISSED} by missed gold)", ""]
        lines += _type_table(self.most_missed())
        return "\n".join(lines) + "\n"


def _type_table(rows: list[tuple[str, Counts]]) -> list[str]:
    out = ["| type | gold | missed | pred | precision | recall | F1 |", "|---|---|---|---|---|---|---|"]
    for name, c in rows:
        cell = name.replace("|", "\\|")
        out.append(
            f"| {cell} | {c.n_gold} | {c.n_missed} | {c.n_pred} | {_pct(c.precision)} "
            f"| {_pct(c.recall)} | {_pct(c.f1)} |"
        )
    return out


def print_report(report: EvalReport, console: Console | None = None) -> None:
    """The summary tables on the terminal."""
    console = console or Console()
    m, leak = report.metrics, report.leak
    run = report.run
    console.print(
        f"[bold]{run.file}[/] · {run.extractor} {run.extractor_version} · roles {run.roles} · "
        f"{run.n_messages} messages · {run.wall_s:.2f} s ({run.ms_per_message:.2f} ms/message)"
    )
    table = Table(title="Extraction (micro, span level)")
    for column in ("slice", "gold", "pred", "P", "R", "F1", "detected any", "leak"):
        table.add_column(column, justify="left" if column == "slice" else "right")
    _, _, severe = m.detected_share(SEVERE_LEVELS)
    o = m.overall
    table.add_row(
        "all", str(o.n_gold), str(o.n_pred), _pct(o.precision), _pct(o.recall), _pct(o.f1),
        f"PL3+4 {_pct(severe)}", _pct(leak.rate),
    )
    for lvl in REPORTED_LEVELS:
        c = m.by_level.get(lvl, Counts())
        _, _, share = m.detected_share((lvl,))
        table.add_row(
            lvl.value, str(c.n_gold), str(c.n_pred), _pct(c.precision), _pct(c.recall), _pct(c.f1),
            _pct(share), _pct(leak.rate_for(lvl)),
        )
    console.print(table)
    console.print(
        f"level accuracy {_pct(m.level_accuracy)} of {m.level_pairs} text+type matched pairs · "
        f"gold not in text {m.gold_not_in_text} · predictions not in text {m.predictions_not_in_text}"
    )
    console.print(f"per-message average F1 (paper) {_pct(m.per_message.f1)}")
    console.print(f"[yellow]warning:[/] the per-message average is {PER_MESSAGE_WARNING}")
    missed = Table(title="Most missed types")
    for column in ("type", "gold", "missed", "R", "P"):
        missed.add_column(column, justify="left" if column == "type" else "right")
    for name, c in report.most_missed(10):
        missed.add_row(name, str(c.n_gold), str(c.n_missed), _pct(c.recall), _pct(c.precision))
    console.print(missed)


def _detected(m: Metrics, levels: tuple[PrivacyLevel, ...]) -> dict[str, Any]:
    detected, total, share = m.detected_share(levels)
    return {"detected": detected, "total": total, "share": _r(share)}


def _counts(c: Counts) -> dict[str, Any]:
    return {
        "gold": c.n_gold,
        "pred": c.n_pred,
        "score": _r(c.score),
        "missed": c.n_missed,
        "precision": _r(c.precision),
        "recall": _r(c.recall),
        "f1": _r(c.f1),
    }


def _r(x: float) -> float:
    return round(x, 4)


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"
