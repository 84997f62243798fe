"""Data protection: deployment profiles, retention, one customer's export and erasure,
the privacy page's text. Gets its settings passed in (no `visavis.config`)."""
