"""Data access: generic CRUD over the RMS tables, and the portfolio summary queries."""
