"""Plots and widgets: drawing only. The maths they show lives in ``course_lib.scratch``; every
explorer derives from ``viz.widget.Explorer`` and only moves artists."""
