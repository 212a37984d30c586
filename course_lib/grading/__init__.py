"""Exercise tooling: `course build` writes exercises/ from solutions/, `course grade` grades submissions."""
