"""lm-eval's own command line, with the model `dreamframe` registered: for `--include_path` + task names.

    python -m eval.run --tasks mvbench --data-root data/bench --out runs/ev --write-tasks   # prints the paths
    dreamframe-lm-eval --model dreamframe --model_args model=runs/train/export --batch_size 8 \\
        --include_path runs/ev/.dreamframe_tasks/tasks --tasks mvbench --output_path runs/lm_eval
    lm_eval --model dreamframe --model_args model=runs/train/export \\
        --tasks 'runs/ev/.dreamframe_tasks/tasks/mvbench_*.yaml' --output_path runs/lm_eval

Why two commands: lm-eval 0.4.13 finds models only in its registry, which is filled by imports, and has
no plugin entry points (EleutherAI/lm-evaluation-harness issues #1457, #1621). Its CLI looks the model
up before it imports anything from `--include_path`, so `lm_eval --model dreamframe --include_path DIR
--tasks NAME` cannot know the model. It does import the `!function` hooks of task YAML files named in
`--tasks` (paths or globs) first, and every DreamFrame hook imports `eval`, which registers `dreamframe`
(eval/__init__.py): so plain `lm_eval` works with task files. This command is lm-eval's CLI (what
`lm_eval.__main__.cli_evaluate` runs, same arguments and output) after importing `eval.lm`, so task and
group names work with `--include_path` too; the one difference is that, like every DreamFrame command, it
refuses abbreviated options (`--task` for `--tasks`).
"""

from __future__ import annotations


def main() -> None:
    """lm-eval's `cli_evaluate`, with abbreviated options refused as in every DreamFrame command."""
    import eval.lm  # noqa: F401 - registers the lm-eval model "dreamframe"
    from lm_eval._cli.harness import HarnessCLI
    from lm_eval.utils import setup_logging

    setup_logging()
    cli = HarnessCLI()
    for parser in (cli._parser, *cli._subparsers.choices.values()):
        parser.allow_abbrev = False  # argparse reads it at parse time: `--task` is not `--tasks`
    cli.execute(cli.parse_args())


if __name__ == "__main__":
    main()
