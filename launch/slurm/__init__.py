"""sbatch templates rendered by `python -m training.submit` (a package so the templates ship in the wheel)."""
