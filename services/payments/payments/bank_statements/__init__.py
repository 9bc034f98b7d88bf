"""Bank statements (camt.053 / camt.054): reading, matching credits to payments, the unmatched list."""
