"""Jinja2 templates shared by every page (package data): the page shell, its CSS and sorting script,
table macros and the two SVG charts. Rooms keep their own page templates in `<room>/templates/`."""
