"""From-scratch NumPy implementations of what the course teaches (CPU, float64 where it teaches)."""
