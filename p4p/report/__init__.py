"""Human-facing renderings of a run: ledger.xlsx, statements and summary PDFs."""
