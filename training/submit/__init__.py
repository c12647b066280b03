"""`python -m training.submit`, kept as an alias of `python -m launch.submit` (Slurm submission moved to the
launch room, issue 25). The alias is `__main__.py` beside this file; import `launch.submit`."""
