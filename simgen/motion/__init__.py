"""Motion sources (motion-capture clips, keyframed motion programs) and pose sequences."""
