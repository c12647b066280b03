"""Jinja2 templates of the dataset report page (package data); the shared page shell, macros and charts
are in dreamframe/templates/."""
