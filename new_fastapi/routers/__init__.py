"""One router per legacy blueprint, named alike."""
