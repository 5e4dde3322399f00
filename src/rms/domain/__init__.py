"""Portfolio rules, free of HTTP and SQL details."""
