"""Open-ended video QA benchmarks (MSVD, MSRVTT, TGIF, ActivityNet-QA): loader, scoring, lm-eval hooks."""
