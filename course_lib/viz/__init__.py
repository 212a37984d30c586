"""Plotting helpers and widgets: computation in pure functions, drawing by updating artists."""
