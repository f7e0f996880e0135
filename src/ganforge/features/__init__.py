"""Feature extractors for sample-quality metrics (FID, IS, ...)."""
