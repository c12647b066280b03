"""sbatch templates rendered by `python -m launch.submit` (a package so the templates ship in the wheel)."""
