"""calib: performance and bonus schemes as data."""
