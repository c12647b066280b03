"""Jinja2 templates of the leaderboard page (package data); the shared page shell, macros and charts are
in dreamframe/templates/."""
