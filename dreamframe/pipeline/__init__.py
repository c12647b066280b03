"""`python -m dreamframe.pipeline`, the README's first command, kept as an alias of `python -m launch.pipeline`
(the main job moved to the launch room, issue 25). The alias is `__main__.py` beside this file; importing this
package gives nothing: import `launch.pipeline`."""
