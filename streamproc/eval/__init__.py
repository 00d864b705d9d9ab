"""Offline evaluation of extractors on MemPrivacy-Bench files: metric, leak rate, reports."""

from streamproc.eval.dataset import DatasetError, EvalMessage, load_messages
from streamproc.eval.metric import MessageCase, Metrics, evaluate
from streamproc.eval.report import EvalReport, print_report
from streamproc.eval.runner import run_eval, run_eval_from_args

__all__ = [
    "DatasetError",
    "EvalMessage",
    "EvalReport",
    "MessageCase",
    "Metrics",
    "evaluate",
    "load_messages",
    "print_report",
    "run_eval",
    "run_eval_from_args",
]
